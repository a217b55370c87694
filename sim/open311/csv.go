package open311

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/ywtg/hub/sim/city"
)

var csvHeader = []string{"案件编号", "案件类型", "大类代码", "小类代码", "问题描述", "地址", "经度", "纬度", "上报时间", "结案时间", "状态", "网格编码"}

// CSVHeader returns the header row of the daily export (docs/sources.md §3).
func CSVHeader() []string { return append([]string(nil), csvHeader...) }

// WriteCSV writes the daily export files cases_YYYYMMDD.csv into dir for
// every day (China Standard Time) before the day of before that has cases:
// GBK, CRLF, header row, RFC 4180 quoting, GCJ-02 coordinates, zone-less
// local times. Each file is written under a temporary name and renamed, so
// a reader never sees a partial file. It returns the paths written.
func WriteCSV(ctx context.Context, c *city.City, dir string, before time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("csv export: %w", err)
	}
	y, m, d := before.In(city.CST).Date()
	cut := time.Date(y, m, d, 0, 0, 0, 0, city.CST).Unix()
	c.RLock()
	defer c.RUnlock()
	lo, hi := c.CityByRequested(-1<<62, cut-1)
	var paths []string
	for i := lo; i < hi; {
		if err := ctx.Err(); err != nil {
			return paths, err
		}
		day := time.Unix(c.CityCases[i].Reported, 0).In(city.CST).Format("20060102")
		j := i
		for j < hi && time.Unix(c.CityCases[j].Reported, 0).In(city.CST).Format("20060102") == day {
			j++
		}
		p, err := writeDay(c, dir, day, i, j)
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
		i = j
	}
	return paths, nil
}

func writeDay(c *city.City, dir, day string, lo, hi int) (string, error) {
	final := filepath.Join(dir, "cases_"+day+".csv")
	tmp, err := os.CreateTemp(dir, ".cases_"+day+"-*.tmp")
	if err != nil {
		return "", fmt.Errorf("csv export %s: %w", day, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("csv export %s: %w", day, err)
	}
	bw := bufio.NewWriterSize(tmp, 1<<16)
	tw := transform.NewWriter(bw, encoding.ReplaceUnsupported(simplifiedchinese.GBK.NewEncoder()))
	cw := csv.NewWriter(tw)
	cw.UseCRLF = true
	cw.Write(csvHeader)
	for i := lo; i < hi; i++ {
		r := c.CityRequest(i)
		reported := time.Unix(r.Requested, 0).In(city.CST).Format(time.DateTime)
		switch r.RequestedKind {
		case city.KMissingField:
			reported = ""
		case city.KTimeEpochMs:
			reported = strconv.FormatInt(r.Requested*1000, 10)
		}
		closed := ""
		if r.ClosedAt > 0 {
			closed = time.Unix(r.ClosedAt, 0).In(city.CST).Format(time.DateTime)
		}
		row := []string{r.ID, r.KindName, r.MajorCode, r.MinorCode, r.Description, r.Address,
			strconv.FormatFloat(r.Long, 'f', 6, 64), strconv.FormatFloat(r.Lat, 'f', 6, 64), reported, closed, r.State, r.GridCode}
		cw.Write(row)
		if c.CityCases[i].Def == city.KDuplicate {
			cw.Write(row)
		}
	}
	cw.Flush()
	err = cw.Error()
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		return "", fmt.Errorf("csv export %s: %w", day, err)
	}
	return final, nil
}
