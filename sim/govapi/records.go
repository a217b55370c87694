package govapi

import (
	"strconv"
	"time"

	"github.com/ywtg/hub/sim/city"
)

// text is a JSON string written byte for byte: invalid UTF-8 (a GBK
// defect) reaches the client as it would from the real system instead of
// being replaced with U+FFFD by encoding/json.
type text string

// MarshalJSON writes the string with JSON escapes for quotes, backslashes
// and control characters only.
func (t text) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(t)+2)
	b = append(b, '"')
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), nil
}

// localTime is written as "YYYY-MM-DD HH:MM:SS" (Asia/Shanghai).
type localTime int64

// MarshalJSON writes the local-time string.
func (t localTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Unix(int64(t), 0).In(city.CST).Format(time.DateTime) + `"`), nil
}

// epochMs is written as a number of milliseconds since the epoch.
type epochMs int64

// MarshalJSON writes the number.
func (t epochMs) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, int64(t)*1000, 10), nil
}

type gridJSON struct {
	ID            int64     `json:"id"`
	GridCode      string    `json:"gridCode"`
	GridName      string    `json:"gridName"`
	CommunityCode string    `json:"communityCode"`
	UpdateTime    localTime `json:"updateTime"`
}

type workerJSON struct {
	ID         int64     `json:"id"`
	Name       text      `json:"name"`
	IDCard     string    `json:"idCard"`
	Mobile     string    `json:"mobile"`
	GridCodes  []string  `json:"gridCodes"`
	Post       string    `json:"post"`
	UpdateTime localTime `json:"updateTime"`
	Deleted    int       `json:"deleted,omitempty"`
}

type houseJSON struct {
	ID           int64   `json:"id"`
	GridCode     string  `json:"gridCode"`
	Address      text    `json:"address"`
	CompoundName string  `json:"compoundName"`
	BuildingNo   string  `json:"buildingNo"`
	UnitNo       string  `json:"unitNo"`
	RoomNo       string  `json:"roomNo"`
	Lng          float64 `json:"lng"`
	Lat          float64 `json:"lat"`
	UpdateTime   epochMs `json:"updateTime"`
	Deleted      int     `json:"deleted,omitempty"`
}

type residentJSON struct {
	ID           int64     `json:"id"`
	Name         text      `json:"name"`
	IDCard       string    `json:"idCard"`
	Mobile       string    `json:"mobile"`
	HouseID      int64     `json:"houseId"`
	ResidentType string    `json:"residentType"`
	Relation     string    `json:"relation"`
	UpdateTime   localTime `json:"updateTime"`
	Deleted      int       `json:"deleted,omitempty"`
}

type flowJSON struct {
	Status   int       `json:"status"`
	Level    int       `json:"level"`
	Time     localTime `json:"time"`
	Operator string    `json:"operator"`
	Opinion  string    `json:"opinion"`
}

type eventJSON struct {
	ID             int64      `json:"id"`
	EventNo        string     `json:"eventNo"`
	EventType      string     `json:"eventType"`
	EventSubType   string     `json:"eventSubType"`
	Title          text       `json:"title"`
	Content        text       `json:"content"`
	GridCode       string     `json:"gridCode"`
	Address        text       `json:"address"`
	Lng            float64    `json:"lng"`
	Lat            float64    `json:"lat"`
	ReporterName   string     `json:"reporterName,omitempty"`
	ReporterIDCard string     `json:"reporterIdCard,omitempty"`
	ReporterMobile string     `json:"reporterMobile,omitempty"`
	ReportTime     localTime  `json:"reportTime"`
	Deadline       epochMs    `json:"deadline"`
	Status         int        `json:"status"`
	Level          int        `json:"level"`
	HandleDept     string     `json:"handleDept"`
	Flows          []flowJSON `json:"flows"`
	UpdateTime     localTime  `json:"updateTime"`
	Deleted        int        `json:"deleted,omitempty"`
}

func del(d bool) int {
	if d {
		return 1
	}
	return 0
}

// render returns the wire form of record i of entity e. The caller holds
// the city's read lock.
func render(c *city.City, e city.Entity, i int) any {
	switch e {
	case city.GovGrids:
		r := c.GovGrid(i)
		return gridJSON{r.ID, r.GridCode, r.GridName, r.CommunityCode, localTime(r.UpdateTime)}
	case city.GovWorkers:
		r := c.GovWorker(i)
		return workerJSON{r.ID, text(r.Name), r.IDCard, r.Mobile, r.GridCodes, r.Post, localTime(r.UpdateTime), del(r.Deleted)}
	case city.GovHouses:
		r := c.GovHouse(i)
		return houseJSON{r.ID, r.GridCode, text(r.Address), r.CompoundName, r.BuildingNo, r.UnitNo, r.RoomNo, r.Lng, r.Lat, epochMs(r.UpdateTime), del(r.Deleted)}
	case city.GovResidents:
		r := c.GovResident(i)
		return residentJSON{r.ID, text(r.Name), r.IDCard, r.Mobile, r.HouseID, r.ResidentType, r.Relation, localTime(r.UpdateTime), del(r.Deleted)}
	default:
		r := c.GovEvent(i)
		ev := eventJSON{ID: r.ID, EventNo: r.EventNo, EventType: r.EventType, EventSubType: r.EventSubType, Title: text(r.Title),
			Content: text(r.Content), GridCode: r.GridCode, Address: text(r.Address), Lng: r.Lng, Lat: r.Lat,
			ReporterName: r.ReporterName, ReporterIDCard: r.ReporterIDCard, ReporterMobile: r.ReporterMobile,
			ReportTime: localTime(r.ReportTime), Deadline: epochMs(r.Deadline), Status: r.Status, Level: r.Level,
			HandleDept: r.HandleDept, UpdateTime: localTime(r.UpdateTime), Deleted: del(r.Deleted)}
		ev.Flows = make([]flowJSON, len(r.Flows))
		for k, f := range r.Flows {
			ev.Flows[k] = flowJSON{f.Status, f.Level, localTime(f.Time), f.Operator, f.Opinion}
		}
		return ev
	}
}
