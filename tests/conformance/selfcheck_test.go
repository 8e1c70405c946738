package conformance

import "testing"

// The stderr line checker run after every test must be able to fail.
func TestStderrLineChecker(t *testing.T) {
	good := []string{
		`{"@level":"info","@message":"hi","@timestamp":"2024-01-02T03:04:05.123456Z"}`,
		`{"@level":"TRACE","@message":"","@timestamp":"2024-01-02T03:04:05.123456+02:00","k":1}`,
	}
	bad := []string{
		``,
		`plain text`,
		`[INFO] tagged but not JSON`,
		`["@level","info"]`,
		`{"@level":"info","@message":5,"@timestamp":"2024-01-02T03:04:05.123456Z"}`,
		`{"@level":3,"@message":"m","@timestamp":"2024-01-02T03:04:05.123456Z"}`,
		`{"@level":"fatal","@message":"m","@timestamp":"2024-01-02T03:04:05.123456Z"}`,
		`{"@level":"info","@message":"m"}`,
		`{"@level":"info","@message":"m","@timestamp":"2024-01-02T03:04:05.123Z"}`,
		`{"@level":"info","@message":"m","@timestamp":"2024-01-02 03:04:05.123456Z"}`,
		`{"@level":"info","@message":"m","@timestamp":"2024-01-02T03:04:05.123456"}`,
	}
	for _, l := range good {
		if why := checkStderrLine(l); why != "" {
			t.Errorf("%q refused: %s", l, why)
		}
	}
	for _, l := range bad {
		if checkStderrLine(l) == "" {
			t.Errorf("%q accepted", l)
		}
	}
}
