package reproduce

import (
	"sync"

	"github.com/vmsim/vmsim/builtin"
	"github.com/vmsim/vmsim/scheme"
)

// cmpScheme is one checkpointing scheme of the comparative study, as configured.
type cmpScheme struct {
	key, label string
	family     string         // the package that implements it (schemeFamilies)
	set        map[string]any // configuration keys over the study's base
	block      bool           // block-granular: studied over --granule
	crash      bool           // survives a crash of volatile memory
	validate   bool           // in the optimal-interval validation
}

// schemeFamilies are the scheme families of the study, in the order the study shows them:
// the packages that implement the schemes, with the title of their panel in the figures.
var schemeFamilies = []struct{ pkg, title string }{
	{"mmu", "mmu: virtual checkpoints"},
	{"memctl", "memctl: memory controller"},
	{"repl", "repl: replication to a backup"},
	{"incremental", "incremental: to storage"},
	{"snaplog", "snaplog: snapshot and input log"},
	{"other", "other schemes"},
}

// familyOf is the package of each built-in scheme. A registered scheme not named here is
// studied all the same, in family "other" (TestEverySchemeStudied asks for its family).
var familyOf = map[string]string{
	"dualmap": "mmu", "none": "mmu",
	"bitmap": "memctl", "bitmap2": "memctl", "blockstate": "memctl", "shadow": "memctl", "shadow-remote": "memctl", "undo": "memctl",
	"remus": "repl", "cacheline": "repl",
	"incremental": "incremental",
	"snaplog":     "snaplog",
}

// validated are the schemes of the optimal-interval validation (its failure runs on the
// longest traces, Tables C3 and C4, Figure C10): at least one of each family, the
// memory controller's two ways of recovering (copy back a shadow, undo a log).
var validated = map[string]bool{"dualmap": true, "bitmap": true, "undo": true, "remus": true, "incremental": true, "snaplog": true}

// studySchemes are the schemes of the comparative study: every registered scheme that
// keeps checkpoints, by family (schemeFamilies) and then name; one whose checkpoints
// depend on the memory (Info.VolatileCheckpoints: dualmap) twice, with non-volatile and
// with volatile memory (only the latter survives a crash of volatile memory).
func studySchemes(infos []scheme.Info) []cmpScheme {
	var out []cmpScheme
	for _, fam := range schemeFamilies {
		for _, info := range infos {
			f, ok := familyOf[info.Name]
			if !ok {
				f = "other"
			}
			if f != fam.pkg || !(info.RecoversTransient || info.RecoversCrash) {
				continue
			}
			sc := cmpScheme{key: info.Name, label: info.Name, family: f, set: map[string]any{"scheme": info.Name},
				block: info.Granule == scheme.GranuleAlways, crash: info.RecoversCrash, validate: validated[info.Name]}
			if !info.VolatileCheckpoints {
				out = append(out, sc)
				continue
			}
			nv, v := sc, sc
			nv.label, nv.crash = info.Name+" (non-volatile)", false
			v.key, v.label, v.validate = info.Name+"-volatile", info.Name+" (volatile)", false
			v.set = map[string]any{"scheme": info.Name, "memory": "volatile"}
			out = append(out, nv, v)
		}
	}
	return out
}

// cmpSchemes are the schemes of the comparative study (made at first use, not at every
// command's start-up).
var cmpSchemes = sync.OnceValue(func() []cmpScheme { return studySchemes(builtin.Infos()) })

// styleOf is the style number (plus one, as Series.Style takes it) of a scheme's series:
// its place in cmpSchemes, so that a scheme looks the same in every figure.
func styleOf(key string) int {
	for i, sc := range cmpSchemes() {
		if sc.key == key {
			return i + 1
		}
	}
	return 0
}

// familyTitle titles a family's panel.
func familyTitle(pkg string) string {
	for _, f := range schemeFamilies {
		if f.pkg == pkg {
			return f.title
		}
	}
	return pkg
}
