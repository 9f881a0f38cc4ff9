package reproduce

import "fmt"

func runLongStudy(opt LongOptions, full, data []*Recording) error {
	return fmt.Errorf("long study: not yet")
}
