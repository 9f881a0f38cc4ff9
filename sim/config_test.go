package sim

import (
	"math"
	"strings"
	"testing"
)

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *Config)
		want string
	}{
		{"mtbf NaN", func(c *Config) { c.MTBF = math.NaN() }, "--mtbf"},
		{"mtbf +Inf", func(c *Config) { c.MTBF = math.Inf(1) }, "--mtbf"},
		{"mtbf -Inf", func(c *Config) { c.MTBF = math.Inf(-1) }, "--mtbf"},
		{"max pages negative", func(c *Config) { c.MaxPages = -1 }, "--max-pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.set(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if c := DefaultConfig(); c.Validate() != nil || c.MaxPages != DefaultMaxPages {
		t.Errorf("defaults: %v, max pages %d", c.Validate(), c.MaxPages)
	}
}
