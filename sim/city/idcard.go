package city

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// IDCheckChar computes the GB 11643-1999 check character (ISO 7064 MOD
// 11-2) of the first 17 digits of a citizen ID.
func IDCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// idTo15 downgrades an 18-digit ID born in the 1900s to the legacy
// 15-digit form (century and check character dropped).
func idTo15(id string) string {
	return id[:6] + id[8:17]
}
