package snaplog

import (
	"fmt"
	"strconv"

	"github.com/vmsim/vmsim/scheme"
)

func init() { scheme.Register(Info()) }

// Info describes scheme snaplog.
func Info() scheme.Info {
	return scheme.Info{
		Name:              "snaplog",
		Doc:               "incremental snapshots to a backup plus a log of the program's inputs shipped continuously; recovery restores the snapshot and replays the log",
		Level:             scheme.LevelCPU,
		RecoversTransient: true,
		RecoversCrash:     true,
		WriteProtects:     true,
		IO:                true,
		Params: []scheme.Param{
			{Name: "log-header", Default: strconv.Itoa(DefaultHeader), Doc: "bytes of each log entry besides the input's data: access number, address space, channel and size"},
		},
		Own: new(Counts),
		New: func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
			set, err := ParseSettings(p)
			if err != nil {
				return nil, err
			}
			return New(m, set, nil)
		},
	}
}

// ParseSettings reads snaplog's settings from its params.
func ParseSettings(p scheme.Params) (Settings, error) {
	v := p["log-header"]
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<20 || v == "" || v[0] == '+' {
		return Settings{}, fmt.Errorf("--log-header %q: want a whole number of bytes from 0 to 1048576", v)
	}
	return Settings{Header: n}, nil
}
