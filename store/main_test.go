package store_test

import (
	"testing"

	"github.com/ywtg/hub/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
