package normalize_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/pii"
)

func TestParseCitizenID(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		gender  canon.Gender
		birth   string
		repairs []normalize.Repair
		reason  normalize.Reason // set when the ID is refused
	}{
		{name: "valid", in: "420606198005011231", want: "420606198005011231", gender: canon.Male, birth: "1980-05-01"},
		{name: "valid with X", in: "11010519491231002X", want: "11010519491231002X", gender: canon.Female, birth: "1949-12-31"},
		{name: "leap day", in: "440301200002290023", want: "440301200002290023", gender: canon.Female, birth: "2000-02-29"},
		{name: "Hong Kong resident (region 81)", in: "810000199001010019", want: "810000199001010019", gender: canon.Male, birth: "1990-01-01"},
		{name: "lower-case x", in: "11010519491231002x", want: "11010519491231002X", gender: canon.Female, birth: "1949-12-31",
			repairs: []normalize.Repair{normalize.UpperCasedX}},
		{name: "spaces inside and around", in: " 1101 0519 4912 3100 2X ", want: "11010519491231002X", gender: canon.Female, birth: "1949-12-31"},
		{name: "tab and ideographic space", in: "\t420606\u3000198005011231", want: "420606198005011231", gender: canon.Male, birth: "1980-05-01",
			repairs: []normalize.Repair{normalize.FullWidthDigits}},
		{name: "full-width digits and X", in: "１１０１０５１９４９１２３１００２Ｘ", want: "11010519491231002X", gender: canon.Female, birth: "1949-12-31",
			repairs: []normalize.Repair{normalize.FullWidthDigits}},
		{name: "full-width lower-case x", in: "１１０１０５１９４９１２３１００２ｘ", want: "11010519491231002X", gender: canon.Female, birth: "1949-12-31",
			repairs: []normalize.Repair{normalize.FullWidthDigits, normalize.UpperCasedX}},
		{name: "spreadsheet quote", in: "'420606198005011231", want: "420606198005011231", gender: canon.Male, birth: "1980-05-01"},
		{name: "15-digit legacy, female", in: "110105491231002", want: "11010519491231002X", gender: canon.Female, birth: "1949-12-31",
			repairs: []normalize.Repair{normalize.UpgradedID15}},
		{name: "15-digit legacy, male", in: "420606800501123", want: "420606198005011231", gender: canon.Male, birth: "1980-05-01",
			repairs: []normalize.Repair{normalize.UpgradedID15}},
		{name: "15-digit legacy, full-width", in: "４２０６０２７５１２３０４５１", want: "420602197512304514", gender: canon.Male, birth: "1975-12-30",
			repairs: []normalize.Repair{normalize.UpgradedID15, normalize.FullWidthDigits}},

		{name: "abolished county keeps its code (崇文区 110103, merged 2010)", in: checksummed("11010319700101001"),
			want: checksummed("11010319700101001"), gender: canon.Male, birth: "1970-01-01"},
		{name: "renamed prefecture (襄樊市 420600)", in: checksummed("42060019850101002"),
			want: checksummed("42060019850101002"), gender: canon.Female, birth: "1985-01-01"},
		{name: "市辖区 code of a city (420601)", in: checksummed("42060119850101001"),
			want: checksummed("42060119850101001"), gender: canon.Male, birth: "1985-01-01"},
		{name: "municipality group (重庆 500100)", in: checksummed("50010019850101001"),
			want: checksummed("50010019850101001"), gender: canon.Male, birth: "1985-01-01"},
		{name: "Macao resident (82)", in: checksummed("82000019900101001"),
			want: checksummed("82000019900101001"), gender: canon.Male, birth: "1990-01-01"},
		{name: "Taiwan resident permit (83)", in: checksummed("83000019900101001"),
			want: checksummed("83000019900101001"), gender: canon.Male, birth: "1990-01-01"},
		{name: "unlisted county under a known prefecture", in: checksummed("42069919850101001"),
			want: checksummed("42069919850101001"), gender: canon.Male, birth: "1985-01-01",
			repairs: []normalize.Repair{normalize.UnlistedRegion}},

		{name: "empty", in: "", reason: normalize.MissingField},
		{name: "region 123456 (no prefecture 1234)", in: "123456199001011233", reason: normalize.BadCitizenID},
		{name: "unknown province 19", in: checksummed("19010119900101123"), reason: normalize.BadCitizenID},
		{name: "unknown province 66", in: checksummed("66010119900101123"), reason: normalize.BadCitizenID},
		{name: "unknown prefecture 4299", in: checksummed("42990119900101123"), reason: normalize.BadCitizenID},
		{name: "only spaces", in: "   ", reason: normalize.MissingField},
		{name: "wrong check digit", in: "420606198005011234", reason: normalize.BadChecksum},
		{name: "wrong check X", in: "42060619800501123X", reason: normalize.BadChecksum},
		{name: "digit where X belongs", in: "110105194912310020", reason: normalize.BadChecksum},
		{name: "transposed digits", in: "420606198005011321", reason: normalize.BadChecksum},
		{name: "too short", in: "12345", reason: normalize.BadCitizenID},
		{name: "17 digits", in: "42060619800501123", reason: normalize.BadCitizenID},
		{name: "19 digits", in: "4206061980050112311", reason: normalize.BadCitizenID},
		{name: "letter inside", in: "1101051949123100AX", reason: normalize.BadCitizenID},
		{name: "X not at the end", in: "X10105194912310021", reason: normalize.BadCitizenID},
		{name: "15 with letter", in: "11010549123100X", reason: normalize.BadCitizenID},
		{name: "region 0", in: checksummed("01010519491231002"), reason: normalize.BadCitizenID},
		{name: "region 9", in: checksummed("91010519491231002"), reason: normalize.BadCitizenID},
		{name: "month 13", in: checksummed("42060619801301123"), reason: normalize.BadCitizenID},
		{name: "30 February", in: checksummed("42060619800230123"), reason: normalize.BadCitizenID},
		{name: "born 1899", in: checksummed("42060618991231123"), reason: normalize.BadCitizenID},
		{name: "born in the future", in: checksummed("42060629990101123"), reason: normalize.BadCitizenID},
		{name: "dashes are not spaces", in: "420606-19800501-1231", reason: normalize.BadCitizenID},
		{name: "Chinese text", in: "身份证号码", reason: normalize.BadCitizenID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, repairs, err := normalize.ParseCitizenID("idCard", tc.in)
			if tc.reason != "" {
				wantDefect(t, tc.name, err, tc.reason)
				if d, ok := normalize.AsDefect(err); ok && d.Field != "idCard" {
					t.Errorf("field %q", d.Field)
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v", tc.in, err)
			}
			if id.Number != tc.want || id.Gender != tc.gender || id.Birth.Format(time.DateOnly) != tc.birth || id.Region != tc.want[:6] {
				t.Errorf("%q → %+v, want %s %s %s", tc.in, id, tc.want, tc.gender, tc.birth)
			}
			if id.Birth.Location() != time.UTC || id.Birth.Hour() != 0 {
				t.Errorf("birth %v is not a UTC date", id.Birth)
			}
			if !sameRepairs(repairs, tc.repairs) {
				t.Errorf("%q: repairs %v, want %v", tc.in, repairs, tc.repairs)
			}
		})
	}
}

// checksummed appends the right check character, so only the birth date
// or region is wrong.
func checksummed(first17 string) string { return first17 + string(normalize.CheckChar(first17)) }

func TestCheckChar(t *testing.T) {
	// Each check character 0..X from the MOD 11-2 table appears.
	for first17, want := range map[string]byte{
		"11010519491231002": 'X', "42060619800501123": '1', "42060219900307001": '8',
		"42068319751230456": '3', "44030120000229002": '3', "42060619990909099": '3',
	} {
		if got := normalize.CheckChar(first17); got != want {
			t.Errorf("CheckChar(%s) = %c, want %c", first17, got, want)
		}
	}
	for _, bad := range []string{"", "1234", "1101051949123100A"} {
		if got := normalize.CheckChar(bad); got != 0 {
			t.Errorf("CheckChar(%q) = %q, want 0", bad, got)
		}
	}
	// Every sum residue yields a distinct character: all 11 appear over
	// the sequence numbers of one birth date.
	seen := map[byte]bool{}
	for seq := 0; seq < 1000; seq++ {
		s := "420606198005011" + string(rune('0'+seq/100)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq%10))
		seen[normalize.CheckChar(s[:17])] = true
	}
	if len(seen) != 11 {
		t.Fatalf("check characters seen: %d, want 11", len(seen))
	}
}

func TestValidCitizenID(t *testing.T) {
	for s, want := range map[string]bool{
		"11010519491231002X": true, "420606198005011231": true,
		"11010519491231002x":  false, // valid after repair, but not normal
		"110105491231002":     false, // legacy
		" 420606198005011231": false, "420606198005011234": false, "": false,
	} {
		if got := normalize.ValidCitizenID(s); got != want {
			t.Errorf("ValidCitizenID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCitizenIDMasked(t *testing.T) {
	id, _, err := normalize.ParseCitizenID("id", "420606198005011231")
	if err != nil {
		t.Fatal(err)
	}
	if got := id.Masked(); got != "420606********1231" {
		t.Fatalf("Masked() = %q", got)
	}
	if got := id.Masked(); got != pii.MaskID(id.Number) {
		t.Fatalf("Masked() %q differs from pii.MaskID %q", got, pii.MaskID(id.Number))
	}
	if got := (normalize.CitizenID{Number: "123"}).Masked(); got != "***" {
		t.Fatalf("short Masked() = %q", got)
	}
}

func TestHasher(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	h, err := normalize.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := normalize.NewHasher([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
	id, _, _ := normalize.ParseCitizenID("id", "420606800501123") // legacy form
	same, _, _ := normalize.ParseCitizenID("id", "420606198005011231")
	if !bytes.Equal(h.HashID(id), h.HashID(same)) || len(h.HashID(id)) != 32 {
		t.Fatal("the legacy and the 18-digit form of one ID hash differently")
	}
	// Domain separation: the same digits as ID and as phone never collide.
	if bytes.Equal(h.HashID(normalize.CitizenID{Number: "13800001111"}), h.HashPhone(normalize.Phone{Number: "13800001111"})) {
		t.Fatal("ID and phone hashes collide")
	}
	other, _ := normalize.NewHasher(bytes.Repeat([]byte{8}, 32))
	if bytes.Equal(h.HashID(id), other.HashID(id)) {
		t.Fatal("different keys give the same hash")
	}
	// The hub's pii keys give the same hashes: one way to hash.
	keys, err := pii.NewKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	p, _, _ := normalize.ParsePhone("m", "+86 138-0000-1111")
	if !bytes.Equal(h.HashID(id), keys.Hash("id", id.Number)) || !bytes.Equal(h.HashPhone(p), keys.Hash("phone", p.Number)) {
		t.Fatal("Hasher and pii.Keys disagree")
	}
}

func FuzzCitizenID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "110105491231002", "11010519491231002x", "x", "１１０", "'420606198005011231",
		" 1101 0519 4912 3100 2X ", "420606198005011234", "\xff\xfe", "420606-19800501-1231"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, repairs, err := normalize.ParseCitizenID("id", s)
		if err != nil {
			if _, ok := normalize.AsDefect(err); !ok {
				t.Fatalf("%q: error %v is no defect", s, err)
			}
			return
		}
		if !normalize.ValidCitizenID(id.Number) {
			t.Fatalf("%q normalised to invalid %q", s, id.Number)
		}
		// Normalising is idempotent: the result parses to itself, unrepaired.
		again, r2, err := normalize.ParseCitizenID("id", id.Number)
		if err != nil || again != id || len(r2) != 0 {
			t.Fatalf("%q → %q → %+v %v %v", s, id.Number, again, r2, err)
		}
		if m := id.Masked(); len(m) != 18 || m[:6] != id.Region || !strings.HasSuffix(m, id.Number[14:]) {
			t.Fatalf("masked %q", m)
		}
		if id.Number == strings.TrimSpace(s) && len(repairs) != 0 {
			t.Fatalf("%q unchanged but repairs %v", s, repairs)
		}
	})
}

func BenchmarkParseCitizenID(b *testing.B) {
	for _, in := range []string{"420606198005011231", "420606800501123", "１１０１０５１９４９１２３１００２ｘ"} {
		b.Run(in[:3], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := normalize.ParseCitizenID("id", in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHashID(b *testing.B) {
	h, _ := normalize.NewHasher(bytes.Repeat([]byte{7}, 32))
	id, _, _ := normalize.ParseCitizenID("id", "420606198005011231")
	b.ReportAllocs()
	for b.Loop() {
		h.HashID(id)
	}
}
