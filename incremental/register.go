package incremental

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/scheme"
)

func init() { scheme.Register(Info()) }

// Default settings.
const (
	DefaultMergeEvery       = 8
	DefaultMirrorFlushEvery = 100000
)

// Info describes scheme incremental.
func Info() scheme.Info {
	return scheme.Info{
		Name:              "incremental",
		Doc:               "incremental process checkpoints to storage: pages written since the last checkpoint (write protection), chained and merged into a full checkpoint; optional mirror cache",
		Level:             scheme.LevelCPU,
		RecoversTransient: true,
		RecoversCrash:     true,
		WriteProtects:     true,
		Params: []scheme.Param{
			{Name: "merge-every", Default: strconv.Itoa(DefaultMergeEvery), Doc: "merge a domain's chain into a new full checkpoint when it holds this many incremental checkpoints (0: never by count)"},
			{Name: "merge-chain-bytes", Default: "0", Doc: "merge a domain's chain when its incremental checkpoints hold at least this many bytes, K/M/G suffixes allowed (0: never by size)"},
			{Name: "mirror-cache", Default: "0", Doc: "bytes of the destination server's cache in front of its disk, K/M/G suffixes allowed (0: no mirror)"},
			{Name: "mirror-flush-every", Default: strconv.Itoa(DefaultMirrorFlushEvery), Doc: "with --mirror-cache, also flush the cache to disk whenever the trace reaches a multiple of this many accesses (0: only when full)"},
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

// ParseSettings reads incremental's settings from its params.
func ParseSettings(p scheme.Params) (Settings, error) {
	var s Settings
	var err error
	n, err := parseSize("merge-every", p["merge-every"], false)
	if err != nil {
		return s, err
	}
	s.MergeEvery = int(n)
	if s.MergeChainBytes, err = parseSize("merge-chain-bytes", p["merge-chain-bytes"], true); err != nil {
		return s, err
	}
	if s.MirrorCache, err = parseSize("mirror-cache", p["mirror-cache"], true); err != nil {
		return s, err
	}
	if s.MirrorFlushEvery, err = parseSize("mirror-flush-every", p["mirror-flush-every"], false); err != nil {
		return s, err
	}
	return s, nil
}

// parseSize reads a whole number, with an optional K, M or G suffix (powers of 1024) when
// suffix is allowed; at most 2^40.
func parseSize(name, v string, suffix bool) (int64, error) {
	s, mul := v, int64(1)
	if suffix && s != "" {
		switch strings.ToUpper(s[len(s)-1:]) {
		case "K":
			mul = 1 << 10
		case "M":
			mul = 1 << 20
		case "G":
			mul = 1 << 30
		}
		if mul > 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || s == "" || s[0] == '+' || n > (1<<40)/mul {
		want := "a whole number from 0"
		if suffix {
			want += ", with an optional K, M or G suffix"
		}
		return 0, fmt.Errorf("--%s %q: want %s, at most 2^40", name, v, want)
	}
	return n * mul, nil
}
