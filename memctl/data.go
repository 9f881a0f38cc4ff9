package memctl

import "fmt"

// dataPath moves the stamps of the data operations that keep a checkpoint: a granule's
// copy into a shadow, a log or a granule's other copy, and blockstate's switch of copies at
// a rollback. Every strategy's such operation goes through the controller's dataPath
// (Controller.data); restoring memory from a shadow, a log or a backup does not, nor do
// shadow-remote's sends (a Link). Production uses exactData; export_test.go substitutes a
// path that loses some data while every count stays right, to show that verification
// catches it. All three are called only when verifying.
type dataPath interface {
	// copyGranule copies one granule's stamps from src to dst, of equal length.
	copyGranule(dst, src []uint64)
	// copyGranules copies the stamps of the granules set in bm from src to dst, upg
	// stamps per granule.
	copyGranules(dst, src, bm []uint64, upg uint64)
	// swapGranules exchanges the stamps of the granules set in bm between a and b, upg
	// stamps per granule.
	swapGranules(a, b, bm []uint64, upg uint64)
}

// exactData moves every operation's data.
type exactData struct{}

func (exactData) copyGranule(dst, src []uint64) { copy(dst, src) }

func (exactData) copyGranules(dst, src, bm []uint64, upg uint64) { copyGranules(dst, src, bm, upg) }

func (exactData) swapGranules(a, b, bm []uint64, upg uint64) {
	eachRun(bm, func(lo, hi uint64) { swapUnits(a[lo*upg:hi*upg], b[lo*upg:hi*upg]) })
}

// image is a second image of memory's stamps, page by page (the shadow of shadow, bitmap
// and bitmap2; blockstate's other copies). It holds stamps only when verifying.
type image struct {
	upp uint64 // stamps per page; 0 when not verifying
	// pages holds each page's stamps by page number (page.id).
	// Invariant: len(pages) == len(Controller.pages) when verifying (upp > 0), else 0;
	// len(pages[id]) == upp.
	pages [][]uint64
}

func newImage(c *Controller) image { return image{upp: c.upp} }

// add gives page p its stamps (all 0: memory's initial content). Precondition: p is the
// page numbered len(pages) (when verifying).
func (im *image) add(p *page) {
	if im.upp == 0 {
		return
	}
	if int(p.id) != len(im.pages) {
		panic(fmt.Sprintf("memctl: page number %d added to an image of %d pages", p.id, len(im.pages)))
	}
	im.pages = append(im.pages, make([]uint64, im.upp))
}

// of returns p's stamps in the image. Precondition: verifying.
func (im *image) of(p *page) []uint64 { return im.pages[p.id] }

// check verifies image's invariants against controller c.
func (im *image) check(c *Controller) error {
	want := 0
	if im.upp > 0 {
		want = len(c.pages)
	}
	if len(im.pages) != want {
		return fmt.Errorf("second image of %d pages for %d pages", len(im.pages), want)
	}
	for id, st := range im.pages {
		if uint64(len(st)) != im.upp {
			return fmt.Errorf("second image of page number %d holds %d stamps, want %d", id, len(st), im.upp)
		}
	}
	return nil
}
