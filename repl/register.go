package repl

import (
	"fmt"
	"strconv"

	"github.com/vmsim/vmsim/scheme"
)

// DefaultLogEntries is the default capacity of a domain's cache-line log: 16384 entries of
// 8 bytes, a 128 KiB log.
const DefaultLogEntries = 16384

func init() {
	scheme.Register(RemusInfo())
	scheme.Register(CachelineInfo())
}

// RemusInfo describes scheme remus.
func RemusInfo() scheme.Info {
	return scheme.Info{
		Name:              "remus",
		Doc:               "epoch-based replication to a backup: dirty pages found by write protection, copied to a staging buffer at each checkpoint and sent",
		Level:             scheme.LevelCPU,
		RecoversTransient: true,
		RecoversCrash:     true,
		WriteProtects:     true,
		Own:               new(RemusCounts),
		New: func(m scheme.Machine, _ scheme.Params) (scheme.Scheme, error) {
			return NewRemus(m, nil), nil
		},
	}
}

// CachelineInfo describes scheme cacheline.
func CachelineInfo() scheme.Info {
	return scheme.Info{
		Name:              "cacheline",
		Doc:               "failover by cache-line logging: the controller logs the address of each line written back; a checkpoint sends the logged lines to a backup",
		Level:             scheme.LevelMemory,
		RecoversTransient: true,
		RecoversCrash:     true,
		// Without a cache the controller logs granules: the line is --granule.
		Granule: scheme.GranuleWithoutCache,
		Params: []scheme.Param{{Name: "log-entries", Default: strconv.Itoa(DefaultLogEntries),
			Doc: "capacity of each domain's cache-line log in entries of 8 bytes; a full log forces a checkpoint"}},
		Own: new(CachelineCounts),
		New: func(m scheme.Machine, p scheme.Params) (scheme.Scheme, error) {
			n, err := strconv.Atoi(p["log-entries"])
			if err != nil || n < 1 || n > 1<<30 {
				return nil, fmt.Errorf("--log-entries %q: want a whole number from 1 to %d", p["log-entries"], 1<<30)
			}
			return NewCacheline(m, n, nil)
		},
	}
}
