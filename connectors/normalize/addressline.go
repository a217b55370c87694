package normalize

import (
	"strings"

	"github.com/ywtg/hub/address"
)

// Address cleans an address field the way Text does (same limit and
// defects) and returns its canonical line (address.Parse): full-width
// forms folded, Chinese numerals of the house part made digits (三栋 →
// 3栋, 一百一十二号 → 112号), province and city prefixes dropped, what no
// component took kept at the end. Empty stays empty.
func Address(field, s string, max int) (string, []Repair, error) {
	t, err := Text(field, s, max)
	if err != nil || t == "" {
		return t, nil, err
	}
	a := address.Parse(t)
	line := a.Normalized
	if a.Rest != "" && !strings.Contains(line, a.Rest) {
		line += a.Rest
	}
	var repairs []Repair
	for _, r := range a.Repairs {
		repairs = addRepair(repairs, Repair(r))
	}
	return line, repairs, nil
}
