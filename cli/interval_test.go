package cli

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestIntervalJSON(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain seconds", []string{"--delta", "300", "--mtbf", "86400"},
			`{"delta_s":300,"mtbf_s":86400,"restart_s":0,"young_s":7200,"daly_s":7001.388888888888}`},
		{"durations", []string{"--delta", "5m", "--mtbf", "24h", "--restart", "10m"},
			`{"delta_s":300,"mtbf_s":86400,"restart_s":600,"young_s":7200,"daly_s":7001.388888888888}`},
		{"mixed, = syntax", []string{"--delta=5m", "--mtbf=86400", "--restart=600"},
			`{"delta_s":300,"mtbf_s":86400,"restart_s":600,"young_s":7200,"daly_s":7001.388888888888}`},
		{"δ ≥ 2M: Daly is M", []string{"--delta", "3", "--mtbf", "1"},
			`{"delta_s":3,"mtbf_s":1,"restart_s":0,"young_s":2.449489742783178,"daly_s":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"interval", "--json"}, tc.args...)
			code, out, errOut := runCLI(args...)
			if code != 0 || out != tc.want+"\n" || errOut != "" {
				t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, out, tc.want+"\n", errOut)
			}
			if _, again, _ := runCLI(args...); again != out {
				t.Errorf("two runs differ:\n%s%s", out, again)
			}
		})
	}
}

// TestIntervalDalyFigures runs the settings of Figs. 3–5 of Daly (2006) through the CLI:
// δ = 5 min and M = 24 h, 6 h, 15 min, for which the paper gives τopt = 117, 57 and
// 9.1 min.
func TestIntervalDalyFigures(t *testing.T) {
	tests := []struct {
		name      string
		mtbf      string
		wantMin   float64
		precision float64
	}{
		{"Fig. 3", "24h", 117, 1},
		{"Fig. 4", "6h", 57, 1},
		{"Fig. 5", "15m", 9.1, 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI("interval", "--json", "--delta", "5m", "--mtbf", tc.mtbf, "--restart", "10m")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var res map[string]float64
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if got := math.Round(res["daly_s"]/60/tc.precision) * tc.precision; math.Abs(got-tc.wantMin) > 1e-9 {
				t.Errorf("daly_s %v = %v min, want %v", res["daly_s"], got, tc.wantMin)
			}
		})
	}
}

func TestIntervalTable(t *testing.T) {
	code, out, errOut := runCLI("interval", "--delta", "5m", "--mtbf", "24h", "--restart", "10m")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"checkpoint δ 300 s, MTBF M 86400 s, restart R 600 s (δ/M = 0.00347222)",
		"Young (1974)", " 7200 ", " 1.0958 ",
		"Daly (2006, eq. 37)", " 7001.39 ", " 1.09576 ",
		"numeric optimum of T_w", " 7001.4 ",
		"T_w/Ts",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "δ ≥ 2M") {
		t.Errorf("table notes δ ≥ 2M for δ/M = 0.0035:\n%s", out)
	}
	if _, again, _ := runCLI("interval", "--delta", "300", "--mtbf", "86400", "--restart", "600"); again != out {
		t.Errorf("durations and plain seconds give different tables:\n%s\n%s", out, again)
	}
	_, big, _ := runCLI("interval", "--delta", "1e5", "--mtbf", "1")
	for _, want := range []string{"δ ≥ 2M: Daly's estimate is M", "overflows"} {
		if !strings.Contains(big, want) {
			t.Errorf("δ/M = 1e5 table lacks %q:\n%s", want, big)
		}
	}
}

// TestIntervalExtremeTable: at ratios δ/M a float64 cannot hold, the numeric optimum is
// still the model's (sqrt(2·δ·M) = sqrt(2) s at δ/M = 1e-400; M at δ/M = 2e600), and δ/M
// prints as it is.
func TestIntervalExtremeTable(t *testing.T) {
	tests := []struct {
		name        string
		delta, mtbf string
		ratio, best string
	}{
		{"δ/M = 1e-400", "1e-200", "1e200", "(δ/M = 1e-400)", "1.41421"},
		{"δ/M = 1e-600", "1e-300", "1e300", "(δ/M = 1e-600)", "1.41421"},
		{"δ/M = 2e+600", "2e300", "1e-300", "(δ/M = 2e+600)", "1e-300"},
		{"δ/M subnormal", "1e-10", "1e300", "(δ/M = 1e-310)", "1.41421e+145"},
		{"δ/M = 1", "1e-300", "1e-300", "(δ/M = 1)", "8.41406e-301"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI("interval", "--delta", tc.delta, "--mtbf", tc.mtbf)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, tc.ratio) {
				t.Errorf("table lacks %q:\n%s", tc.ratio, out)
			}
			var best []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "numeric optimum") {
					best = strings.Fields(strings.ReplaceAll(l, "│", " "))
				}
			}
			// "numeric optimum of T_w SECONDS SLOWDOWN"
			if len(best) != 6 || best[4] != tc.best {
				t.Errorf("numeric optimum row %q, want %s s:\n%s", best, tc.best, out)
			}
		})
	}
}

func TestIntervalErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no mtbf", []string{"--delta", "300"}, `required flag(s) "mtbf" not set`},
		{"no flags", nil, `required flag(s) "delta", "mtbf" not set`},
		{"zero delta", []string{"--delta", "0", "--mtbf", "1h"}, `"--delta" flag: invalid input: time "0": must be positive`},
		{"zero mtbf", []string{"--delta", "1", "--mtbf", "0s"}, `"--mtbf" flag: invalid input: time "0s": must be positive`},
		{"negative restart", []string{"--delta", "1", "--mtbf", "1h", "--restart", "-1"}, `"--restart" flag: invalid input: time "-1": negative`},
		{"unknown unit", []string{"--delta", "5d", "--mtbf", "1h"}, `unknown unit "d"`},
		{"NaN", []string{"--delta", "NaN", "--mtbf", "1h"}, `"--delta" flag`},
		{"Inf", []string{"--delta", "1", "--mtbf", "1e999"}, `time "1e999": out of range`},
		{"argument", []string{"--delta", "1", "--mtbf", "1h", "extra"}, `unknown command "extra"`},
		{"bad flag", []string{"--delta", "1", "--mtbf", "1h", "--ckpt", "2"}, "unknown flag: --ckpt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(append([]string{"interval"}, tc.args...)...)
			if code != exitBad || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2, no output, stderr with %q", code, out, errOut, tc.want)
			}
		})
	}
}

func TestIntervalHelpCites(t *testing.T) {
	code, out, _ := runCLI("interval", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"J. W. Young", "Communications of the ACM 17(9)", "1974",
		"J. T. Daly", "Future Generation Computer Systems 22(3)", "2006, eq. (37)",
		"sqrt(2·δ·M)", "1h30m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
