package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServiceRequest is a case as the Open311 outbound endpoint publishes it.
type ServiceRequest struct {
	ID           int64
	Status       string // canonical
	Tier         string
	CategoryCode string
	CategoryName string
	Description  string
	Agency       string
	Address      string
	ReportedAt   time.Time
	UpdatedAt    time.Time
	DueAt        *time.Time
	Lat, Lng     *float64 // WGS-84
	GridCode     string
	History      []ServiceRequestStep
}

// ServiceRequestStep is a timeline step of a ServiceRequest.
type ServiceRequestStep struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Note   string    `json:"note"`
}

// ServiceRequestQuery selects service requests. Exactly one way is used:
// IDs; else UpdatedAfter (keyset on the update second and id, oldest
// first); else the requested window, newest first, paged by Offset.
type ServiceRequestQuery struct {
	IDs          []int64
	UpdatedAfter *time.Time
	AfterID      int64
	From, To     time.Time // requested_at window, [From, To)
	Closed       *bool     // nil: both
	Categories   []string  // unified category codes; nil: all
	Offset       int
	Limit        int
}

// ServiceRequests reads cases for the Open311 outbound endpoint, within
// the context's jurisdiction.
func (s *Store) ServiceRequests(ctx context.Context, q ServiceRequestQuery) ([]ServiceRequest, error) {
	var a sqlArgs
	conds := []string{scopePath(ctx, "c.region_path", &a)}
	order := "c.reported_at DESC, c.id DESC"
	switch {
	case q.IDs != nil:
		conds = append(conds, "c.id = ANY("+a.add(q.IDs)+")")
		order = "c.id"
	case q.UpdatedAfter != nil:
		t := q.UpdatedAfter.Truncate(time.Second)
		p := a.add(t)
		if q.AfterID > 0 {
			conds = append(conds, "c.updated_at >= "+p+" AND (date_trunc('second', c.updated_at), c.id) > ("+p+"::timestamptz, "+a.add(q.AfterID)+"::bigint)")
		} else {
			conds = append(conds, "c.updated_at >= "+p+"::timestamptz + interval '1 second'")
		}
		order = "date_trunc('second', c.updated_at), c.id"
	default:
		conds = append(conds, "c.reported_at >= "+a.add(q.From), "c.reported_at < "+a.add(q.To))
	}
	if q.Closed != nil {
		not := ""
		if !*q.Closed {
			not = "NOT "
		}
		conds = append(conds, not+"(c.status IN ('CLOSED', 'REJECTED'))")
	}
	if q.Categories != nil {
		conds = append(conds, "c.category_code = ANY("+a.add(q.Categories)+")")
	}
	sql := `SELECT c.id, c.status, c.tier, coalesce(c.category_code, ''), coalesce(cat.name, ''), c.description,
			c.assignee_dept, c.address, c.reported_at, c.updated_at, c.due_at, c.lat, c.lng, coalesce(g.code, ''),
			coalesce((SELECT json_agg(json_build_object('status', e.status, 'at', e.at, 'actor', e.actor, 'note', e.note) ORDER BY e.seq)
				FROM ` + timelineSteps("c.timeline", "e") + `), '[]')
		FROM "case" c LEFT JOIN region g ON g.id = c.grid_id LEFT JOIN category cat ON cat.code = c.category_code
		WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY ` + order + ` LIMIT ` + a.add(q.Limit) + ` OFFSET ` + a.add(q.Offset)
	rows, err := s.pool.Query(ctx, sql, a...)
	if err != nil {
		return nil, fmt.Errorf("service requests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ServiceRequest, error) {
		var x ServiceRequest
		var hist []byte
		err := r.Scan(&x.ID, &x.Status, &x.Tier, &x.CategoryCode, &x.CategoryName, &x.Description, &x.Agency, &x.Address,
			&x.ReportedAt, &x.UpdatedAt, &x.DueAt, &x.Lat, &x.Lng, &x.GridCode, &hist)
		if err == nil {
			err = json.Unmarshal(hist, &x.History)
		}
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("service requests: %w", err)
	}
	return out, nil
}

// ServiceCategory is a category of the unified taxonomy as an Open311
// service.
type ServiceCategory struct {
	Code, Name, Kind, Group string
}

// ServiceCategories lists the classes of the unified taxonomy (cases may
// name a major class) with their major class.
func (s *Store) ServiceCategories(ctx context.Context) ([]ServiceCategory, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.code, c.name, c.kind, coalesce(p.name, '') FROM category c
		LEFT JOIN category p ON p.code = c.parent_code ORDER BY c.code`)
	if err != nil {
		return nil, fmt.Errorf("service categories: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ServiceCategory, error) {
		var c ServiceCategory
		err := r.Scan(&c.Code, &c.Name, &c.Kind, &c.Group)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("service categories: %w", err)
	}
	return out, nil
}
