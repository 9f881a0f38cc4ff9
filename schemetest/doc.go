// Package schemetest holds the helpers the scheme packages' tests share: random traces,
// the head of the real gcc trace (when the developers' traces folder is beside the
// repository), and running a configuration through the driver. It is for tests only.
package schemetest
