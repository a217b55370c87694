package canon

// AddressReference is what the address service matches free text against:
// the region tree and the known compounds (小区) with their buildings. The
// store loads it; the address package indexes it.
type AddressReference struct {
	Regions   []RegionRef
	Compounds []CompoundRef
}

// RegionRef is a region of the tree as the address service knows it.
type RegionRef struct {
	Code       string
	Name       string
	Level      RegionLevel
	ParentCode string // empty for a root
}

// CompoundRef is a known compound with its buildings.
type CompoundRef struct {
	ID            string
	Name          string
	GridCode      string // the grid the compound lies in (or most of it); may be empty
	CommunityCode string // may be empty when GridCode is given
	Buildings     []BuildingRef
}

// BuildingRef is a building (楼栋) of a compound.
type BuildingRef struct {
	ID       string
	Number   string // as written: "12", "12栋", "A座", "三号楼"
	GridCode string // may be empty: the compound's grid applies
}
