package normalize_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/ywtg/hub/connectors/normalize"
)

func gbk(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCleanText(t *testing.T) {
	const (
		html  = normalize.HTMLStripped
		space = normalize.WhitespaceNormalized
		cut   = normalize.TextTruncated
	)
	tests := []struct {
		name, in, want string
		max            int
		repairs        []normalize.Repair
		reason         normalize.Reason
	}{
		{name: "plain", in: "路边垃圾桶满溢，异味明显", want: "路边垃圾桶满溢，异味明显"},
		{name: "trimmed", in: "  小区路灯损坏\n", want: "小区路灯损坏"},
		{name: "simulator markup", in: `<p>垃圾堆积</p><br/>&nbsp;<b style="color:red">请尽快处理</b>`, want: "垃圾堆积\n请尽快处理",
			repairs: []normalize.Repair{html, space}},
		{name: "inline tags", in: "请<b>尽快</b>处理", want: "请尽快处理", repairs: []normalize.Repair{html}},
		{name: "entities", in: "A&amp;B &lt;东门&gt; &quot;急&quot;", want: `A&B <东门> "急"`, repairs: []normalize.Repair{html}},
		{name: "numeric entities", in: "&#24352;&#x4E09;", want: "张三", repairs: []normalize.Repair{html}},
		{name: "escaped tag stays text", in: "&lt;script&gt;", want: "<script>", repairs: []normalize.Repair{html}},
		{name: "script dropped", in: "前<script>alert('x')</script>后", want: "前后", repairs: []normalize.Repair{html}},
		{name: "style dropped", in: "<STYLE>p{color:red}</STYLE>正文", want: "正文", repairs: []normalize.Repair{html}},
		{name: "comment dropped", in: "a<!-- note -->b", want: "ab", repairs: []normalize.Repair{html}},
		{name: "less-than kept", in: "温度<5度, 1 < 2", want: "温度<5度, 1 < 2"},
		{name: "unclosed tag kept", in: "a <b c", want: "a <b c"},
		{name: "list items", in: "<ul><li>一</li><li>二</li></ul>", want: "一\n二", repairs: []normalize.Repair{html}},
		{name: "CRLF", in: "第一行\r\n第二行\r\n\r\n\r\n第三行", want: "第一行\n第二行\n\n第三行", repairs: []normalize.Repair{space}},
		{name: "lone CR", in: "a\rb", want: "a\nb", repairs: []normalize.Repair{space}},
		{name: "tabs and runs", in: "a\t\tb   c", want: "a b c", repairs: []normalize.Repair{space}},
		{name: "ideographic indent", in: "\u3000\u3000第一段", want: "第一段"},
		{name: "nbsp", in: "a\u00a0\u00a0b", want: "a b", repairs: []normalize.Repair{space}},
		{name: "zero width", in: "a\u200bb\ufeff", want: "ab", repairs: []normalize.Repair{space}},
		{name: "control", in: "a\x07b", want: "ab", repairs: []normalize.Repair{space}},
		{name: "spaces at line ends", in: "a  \n  b", want: "a\nb", repairs: []normalize.Repair{space}},
		{name: "truncated", in: "一二三四五六", max: 4, want: "一二三四", repairs: []normalize.Repair{cut}},
		{name: "truncated, trailing space dropped", in: "一二三 四五", max: 4, want: "一二三", repairs: []normalize.Repair{cut}},
		{name: "at the limit", in: "一二三四", max: 4, want: "一二三四"},
		{name: "limit counts runes not bytes", in: strings.Repeat("字", 4000), max: 4000, want: strings.Repeat("字", 4000)},
		{name: "empty", in: "", want: ""},
		{name: "invalid references dropped", in: "a&#0;b&#X0", want: "ab", repairs: []normalize.Repair{html}}, // found by fuzzing
		{name: "GBK bytes", in: string(gbk(t, "垃圾堆积")), reason: normalize.BadEncoding},
		{name: "replacement char", in: "a\ufffdb", reason: normalize.BadEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, repairs, err := normalize.CleanText("content", tc.in, tc.max)
			if tc.reason != "" {
				wantDefect(t, tc.name, err, tc.reason)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("%q → %q %v, want %q", tc.in, got, err, tc.want)
			}
			if !sameRepairs(repairs, tc.repairs) {
				t.Errorf("repairs %v, want %v", repairs, tc.repairs)
			}
			// Text cleans the same and refuses instead of cutting.
			strict, err := normalize.Text("content", tc.in, tc.max)
			if hasRepair(repairs, cut) {
				wantDefect(t, tc.name, err, normalize.TextTooLong)
			} else if err != nil || strict != got {
				t.Errorf("Text → %q %v", strict, err)
			}
		})
	}
}

func TestText(t *testing.T) {
	// The documented quarantine: content over 4000 characters.
	_, err := normalize.Text("content", strings.Repeat("长", 4001), 4000)
	wantDefect(t, "oversized", err, normalize.TextTooLong)
	if got, err := normalize.Text("title", "  标题  ", 200); err != nil || got != "标题" {
		t.Fatalf("%q %v", got, err)
	}
	if got, err := normalize.Text("t", strings.Repeat("x", 10), 0); err != nil || len(got) != 10 {
		t.Fatalf("max 0 is no limit: %q %v", got, err)
	}
}

func TestDecode(t *testing.T) {
	raw := gbk(t, "樊城区长虹路12号，垃圾堆积")
	s, err := normalize.DecodeGBK("content", raw)
	if err != nil || s != "樊城区长虹路12号，垃圾堆积" {
		t.Fatalf("DecodeGBK → %q %v", s, err)
	}
	s, repairs, err := normalize.DecodeText("content", raw)
	if err != nil || s != "樊城区长虹路12号，垃圾堆积" || !sameRepairs(repairs, []normalize.Repair{normalize.GBKDecoded}) {
		t.Fatalf("DecodeText(GBK) → %q %v %v", s, repairs, err)
	}
	s, repairs, err = normalize.DecodeText("content", []byte("已是 UTF-8"))
	if err != nil || s != "已是 UTF-8" || len(repairs) != 0 {
		t.Fatalf("DecodeText(UTF-8) → %q %v %v", s, repairs, err)
	}
	for _, bad := range [][]byte{{0x81}, {0xff, 0xff}, {0xd5, 0x30}} {
		_, err := normalize.DecodeGBK("content", bad)
		wantDefect(t, "bad GBK", err, normalize.BadEncoding)
		_, _, err = normalize.DecodeText("content", bad)
		wantDefect(t, "bad GBK", err, normalize.BadEncoding)
	}
	// A GBK CSV stream.
	csv := gbk(t, "案件编号,案件类型\r\n202402240000001,事件\r\n")
	out, err := io.ReadAll(normalize.NewGBKReader(bytes.NewReader(csv)))
	if err != nil || string(out) != "案件编号,案件类型\r\n202402240000001,事件\r\n" {
		t.Fatalf("GBK reader → %q %v", out, err)
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{`<p>垃圾堆积</p><br/>&nbsp;<b style="color:red">请尽快处理</b>`, "a\r\n\r\n\r\nb", "<script>x", "<!--", "&#x", "温度<5度",
		"\xff", "\u3000\u3000段落", "<", "<a", "</", "<br", "&amp;lt;"} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<20 {
			max = 1 << 20
		}
		out, repairs, err := normalize.CleanText("c", s, max)
		if err != nil {
			d, ok := normalize.AsDefect(err)
			if !ok || d.Reason != normalize.BadEncoding {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if !utf8.ValidString(out) || strings.TrimSpace(out) != out || strings.Contains(out, "\n\n\n") || strings.Contains(out, "  ") || strings.Contains(out, "\r") {
			t.Fatalf("%q → %q", s, out)
		}
		if max > 0 && utf8.RuneCountInString(out) > max {
			t.Fatalf("%q → %d runes over %d", s, utf8.RuneCountInString(out), max)
		}
		if hasRepair(repairs, normalize.TextTruncated) && max <= 0 {
			t.Fatal("truncated without a limit")
		}
		// Whitespace normalisation is idempotent on markup-free text.
		if !strings.ContainsAny(out, "<&") {
			again, r2, err := normalize.CleanText("c", out, 0)
			if err != nil || again != out || len(r2) != 0 {
				t.Fatalf("%q → %q → %q %v %v", s, out, again, r2, err)
			}
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	f.Add([]byte("中文"))
	f.Add([]byte{0xd5, 0xc5, 0xc8, 0xfd})
	f.Add([]byte{0x81, 0x30, 0x81, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _, err := normalize.DecodeText("c", b)
		if err == nil && (!utf8.ValidString(s) || (!utf8.Valid(b) && strings.ContainsRune(s, utf8.RuneError))) {
			t.Fatalf("% x → %q", b, s)
		}
	})
}

func BenchmarkCleanText(b *testing.B) {
	plain := strings.Repeat("路边垃圾桶满溢，异味明显。", 40)
	markup := `<p>` + plain + `</p><br/>&nbsp;<b style="color:red">请尽快处理</b>`
	for name, in := range map[string]string{"plain": plain, "html": markup} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := normalize.CleanText("c", in, 4000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestCleanTextLinearTime(t *testing.T) {
	// Unclosed tags by the hundred thousand finish promptly.
	s := strings.Repeat("<a", 200000)
	out, _, err := normalize.CleanText("c", s, 0)
	if err != nil || out != s {
		t.Fatalf("unclosed tags: %d bytes, %v", len(out), err)
	}
}
