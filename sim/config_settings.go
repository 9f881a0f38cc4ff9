package sim

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vmsim/vmsim/scheme"
)

// A schemeSetting is a setting of the machine that only some schemes model. Given (set to
// a value other than its default, on the command line or by a sweep) for a scheme that
// does not model it, it is a usage error rather than a setting silently ignored: a
// configuration, and its JSON, never shows a setting that did not apply.
type schemeSetting struct {
	flag    string
	value   func(c *Config) string // as the flag takes it
	applies func(info scheme.Info, c *Config) bool
	// why says what the scheme does not do, after "scheme NAME".
	why func(info scheme.Info, c *Config) string
}

var schemeSettings = []schemeSetting{
	{"granule", func(c *Config) string { return strconv.FormatUint(c.Granule, 10) },
		func(info scheme.Info, c *Config) bool { return info.Granule.UsesGranule(c.CacheSize > 0) },
		func(info scheme.Info, c *Config) string {
			if info.Granule == scheme.GranuleWithoutCache {
				return "tracks cache lines, not granules, behind a cache (--cache-size)"
			}
			return "does not track memory in granules"
		}},
	{"tlb-checkpoint", func(c *Config) string { return string(c.TLBCheckpoint) },
		func(info scheme.Info, _ *Config) bool { return info.WriteProtects },
		func(scheme.Info, *Config) string { return "does not write-protect through the translation" }},
}

// A machineParam is a setting of the machine that only some schemes model, which the driver
// has a flag, a sweep key and a Config field for but does not read: it passes it on, as a
// param named as its flag, to a scheme that declares it (scheme.Param); the scheme checks
// it. Given to a scheme that does not declare it, it is a usage error.
type machineParam struct {
	flag  string
	value func(c *Config) string // as the flag takes it
	// why says what a scheme that does not declare it does not do, after "scheme NAME".
	why string
	// models: listed among the settings a scheme models (SchemeSettings). --pte-bytes,
	// which applies only with volatile memory, is listed among its own settings instead.
	models bool
}

var machineParams = []machineParam{
	{"frames", func(c *Config) string { return strconv.Itoa(c.Frames) }, "models no paging", true},
	{"replace", func(c *Config) string { return c.Replace }, "models no paging", true},
	{"steal", func(c *Config) string { return c.Steal }, "models no paging", true},
	{"initial", func(c *Config) string { return c.Initial }, "models no paging", true},
	{"pte-bytes", func(c *Config) string { return strconv.FormatUint(c.PTEBytes, 10) }, "writes no page-table pages", false},
	{"vbits", func(c *Config) string { return strconv.Itoa(c.VBits) }, "keeps no virtual checkpoints", true},
	{"cow", func(c *Config) string { return c.Cow }, "keeps no virtual checkpoints", true},
}

// MachineParams returns the names of the settings of the machine that the driver passes on
// to the schemes that declare a Param of that name: frames, replace, steal, initial,
// pte-bytes, vbits and cow. They are flags of vmsim run and keys of a sweep of their own
// (pte_bytes for pte-bytes), never among Config.Params.
func MachineParams() []string {
	out := make([]string, len(machineParams))
	for i, p := range machineParams {
		out[i] = p.flag
	}
	return out
}

// OwnParamNames returns the names of the settings of reg's schemes (nil: the process-wide
// registry) that are not the driver's (MachineParams), sorted: those that are flags of
// vmsim run and keys of a sweep only as a scheme's, and go in Config.Params.
func OwnParamNames(reg *scheme.Registry) []string {
	machine := MachineParams()
	return slices.DeleteFunc(orDefault(reg).ParamNames(), func(n string) bool { return slices.Contains(machine, n) })
}

// SchemeSettings returns the settings of the machine that only some schemes model and
// info does, as flags in a fixed order ("--granule (without a cache)" when only then):
// the machine params it declares (but --pte-bytes, listed among its own settings), then
// the others. The other such settings are a usage error for info unless left at their
// defaults.
func SchemeSettings(info scheme.Info) []string {
	var out []string
	for _, p := range machineParams {
		if p.models && info.Takes(p.flag) {
			out = append(out, "--"+p.flag)
		}
	}
	plain, cached := DefaultConfig(), DefaultConfig()
	cached.CacheSize = 1
	for _, s := range schemeSettings {
		switch {
		case s.applies(info, &cached):
			out = append(out, "--"+s.flag)
		case s.applies(info, &plain):
			out = append(out, "--"+s.flag+" (without a cache)")
		}
	}
	return out
}

// takers lists the schemes of reg (nil: the process-wide registry) s applies to under c,
// for a message.
func (s schemeSetting) takers(c *Config, reg *scheme.Registry) string {
	return takers(reg, func(i scheme.Info) string {
		switch {
		case s.applies(i, c):
			return i.Name
		case s.flag == "granule" && i.Granule == scheme.GranuleWithoutCache:
			return i.Name + " without a cache"
		}
		return ""
	})
}

// takers lists, for a message, the schemes of reg (nil: the process-wide registry) that
// name gives a name to ("" leaves a scheme out).
func takers(reg *scheme.Registry, name func(scheme.Info) string) string {
	var names []string
	for _, i := range orDefault(reg).All() {
		if n := name(i); n != "" {
			names = append(names, n)
		}
	}
	switch len(names) {
	case 0:
		return "no registered scheme"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
