package reproduce

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vmsim/vmsim/internal/atomicfile"
	"github.com/vmsim/vmsim/sweep"
)

// dataFile is a results file of a study's data folder, with the function of package
// sweep that opens it: the one sweep writes its own results with, whose check refuses,
// untouched, a file holding anything but vmsim's results.
type dataFile struct {
	path string
	open func(string) (*sweep.File, error)
}

// dataFiles are the results files of the data folder data: points.csv, points.jsonl.
func dataFiles(data string) []dataFile {
	return []dataFile{{filepath.Join(data, "points.csv"), sweep.OpenCSV}, {filepath.Join(data, "points.jsonl"), sweep.OpenJSONL}}
}

// openOwn opens the existing results file path with open (sweep.OpenCSV or
// sweep.OpenJSONL), which locks it and refuses it, untouched, unless vmsim wrote it; a
// missing file is not created (nil, nil).
func openOwn(path string, open func(string) (*sweep.File, error)) (*sweep.File, error) {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	f, err := open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (vmsim reproduce replaces only the results files vmsim wrote: move this one away, or give another --dir)", err)
	}
	return f, nil
}

// checkData refuses the data folder data if a data file or a partial one there was not
// written by vmsim (or is being written by another vmsim); it changes nothing.
func checkData(data string) error {
	for _, f := range dataFiles(data) {
		for _, p := range []string{f.path, f.path + partialSuffix} {
			h, err := openOwn(p, f.open)
			if err != nil {
				return err
			}
			if h != nil {
				if err := h.Close(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// uniqPoints are points without repeats: a point listed twice (the same configuration in
// two parts of a study) runs once, where it first appears.
func uniqPoints(points []sweep.Point) []sweep.Point {
	var uniq []sweep.Point
	seen := map[string]bool{}
	for _, p := range points {
		if !seen[p.ID] {
			seen[p.ID] = true
			uniq = append(uniq, p)
		}
	}
	return uniq
}

// runPoints runs points and returns every result by point id; data/points.csv and
// data/points.jsonl then hold exactly these points, in order. The results go first to
// the partial files beside them (points.csv.partial, points.jsonl.partial), which replace
// them only when every point has run: until then the data files stay as they were, held
// open (locked). A data or partial file that vmsim did not write is refused, untouched,
// before anything runs. With opt.Resume the points already in the partial files (an
// interrupted run) and in the data files are not run again; otherwise the partial files
// start empty. With opt.Report and opt.phase, the points' progress goes to the report as
// that phase's (Progress.plan must have declared it).
func runPoints(data string, points []sweep.Point, opt Options) (map[string]*sweep.Result, error) {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	files := dataFiles(data)
	csvPath, jsonPath := files[0].path, files[1].path
	for _, f := range files {
		old, err := openOwn(f.path, f.open)
		if err != nil {
			return nil, err
		}
		if old != nil {
			defer old.Close() // after the replacement below, if the run gets there
		}
		part, err := openOwn(f.path+partialSuffix, f.open)
		if err != nil {
			return nil, err
		}
		if part == nil {
			continue
		}
		if !opt.Resume {
			err = os.Remove(f.path + partialSuffix)
		}
		if cerr := part.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
	}
	c, err := sweep.OpenCSV(csvPath + partialSuffix)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	j, err := sweep.OpenJSONL(jsonPath + partialSuffix)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	uniq := uniqPoints(points)
	seen := map[string]bool{}
	for _, p := range uniq {
		seen[p.ID] = true
	}
	if opt.Resume {
		// The study's points already in the data files go into the partial ones.
		old, err := sweep.ReadJSONL(jsonPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, r := range old {
			if !seen[r.ID] {
				continue
			}
			for _, s := range []*sweep.File{c, j} {
				if !s.Has(r.ID) {
					if err := s.Write(r); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	// The points run already (opt.pre) go into the partial files as they are.
	for _, p := range uniq {
		r := opt.pre[p.ID]
		if r == nil {
			continue
		}
		for _, s := range []*sweep.File{c, j} {
			if !s.Has(r.ID) {
				if err := s.Write(r); err != nil {
					return nil, err
				}
			}
		}
	}
	progress := opt.Progress
	if opt.Report != nil && opt.phase != "" {
		// The points in both partial files are kept: sweep.Run counts them done first.
		kept := map[int]bool{}
		for i, p := range uniq {
			if c.Has(p.ID) && j.Has(p.ID) {
				kept[i] = true
			}
		}
		opt.Report.begin(opt.phase, kept)
		progress = func(done, total int) {
			if opt.Progress != nil {
				opt.Progress(done, total)
			}
			opt.Report.pointsDone(done - len(kept))
		}
	}
	if _, err := sweep.Run(uniq, sweep.Options{Jobs: opt.Jobs, Costs: opt.Costs, Progress: progress, Version: opt.Version}, c, j); err != nil {
		return nil, err
	}
	all, err := sweep.ReadJSONL(jsonPath + partialSuffix)
	if err != nil {
		return nil, err
	}
	results := map[string]*sweep.Result{}
	for _, r := range all {
		results[r.ID] = r
	}
	for _, p := range uniq {
		if results[p.ID] == nil {
			return nil, fmt.Errorf("%s: point %s missing", jsonPath+partialSuffix, p.ID)
		}
	}
	// Every point has run: the data files are replaced (each whole or not at all) by
	// exactly the study's points, in order (a resumed run may have left points of another
	// study in the partial files), and the partial files go.
	ordered := make([]*sweep.Result, len(uniq))
	for i, p := range uniq {
		ordered[i] = results[p.ID]
	}
	if err := atomicfile.Write(csvPath, func(w io.Writer) error { return sweep.WriteCSV(w, ordered) }); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(jsonPath, func(w io.Writer) error { return sweep.WriteJSONL(w, ordered) }); err != nil {
		return nil, err
	}
	if err := c.Close(); err != nil {
		return nil, err
	}
	if err := j.Close(); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := os.Remove(f.path + partialSuffix); err != nil {
			return nil, err
		}
	}
	return results, nil
}
