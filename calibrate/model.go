package calibrate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vmsim/vmsim/cost"
)

// Model returns base with the fields f measured replaced by its medians (the package
// documentation says which value sets which field). A value of a name this vmsim does not
// know is an error naming it: a file of a newer calibrate must not be half used.
func (f *File) Model(name string, base cost.Model) (cost.Model, error) {
	m := base
	for _, v := range f.Values {
		x := v.Median
		switch v.Name {
		case "page_copy_bytes_per_sec":
			m.CopyBytesPerSec, m.LogBytesPerSec, m.RecoveryBytesPerSec = x, x, x
			if x > 0 {
				m.CacheFlushLineNs = 64 / x * 1e9
			}
		case "minor_fault_ns":
			m.FaultNs = x
		case "wp_trap_ns":
			m.TrapNs, m.RestartNs = x, x
		case "mprotect_ns":
			m.MprotectNs = x
		case "durable_write_ns":
			m.DiskWriteNs, m.PTPageWriteNs, m.CommitNs = x, x, x
		case "disk_read_ns":
			m.DiskReadNs = x
		case "cache_miss_ns":
			m.CacheMissNs = x
		case "page_walk_ns":
			m.PageWalkNs = x
		default:
			return base, fmt.Errorf("%s: value %q: not a cost vmsim knows (want one of %v)", name, v.Name, ProbeValueNames())
		}
	}
	if err := m.Validate(); err != nil {
		return base, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// ProbeValueNames are the names of every value the probes measure.
func ProbeValueNames() []string {
	var out []string
	for _, p := range Probes {
		out = append(out, p.ValueNames()...)
	}
	return out
}

// LoadCosts reads the cost file at path over the defaults (cost.Default): a file vmsim
// calibrate wrote (an object with "format"), read and checked by Read and mapped by
// File.Model, or an object of cost keys and numbers (cost.Read). The set is named by the
// file's base name. Errors name the file, and the key or the line where there is one.
func LoadCosts(path string) (cost.Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cost.Set{}, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil || probe == nil {
		// Not an object: cost.Read says why (and where the JSON goes wrong).
		_, err = cost.Read(bytes.NewReader(data), path, cost.Default())
		if err == nil {
			err = fmt.Errorf("%s: want a JSON object", path)
		}
		return cost.Set{}, err
	}
	set := cost.Set{Name: filepath.Base(path)}
	if _, ok := probe["format"]; ok {
		f, err := Read(bytes.NewReader(data), path)
		if err != nil {
			return cost.Set{}, err
		}
		if set.Model, err = f.Model(path, cost.Default()); err != nil {
			return cost.Set{}, err
		}
		return set, nil
	}
	if set.Model, err = cost.Read(bytes.NewReader(data), path, cost.Default()); err != nil {
		return cost.Set{}, err
	}
	return set, nil
}
