package sim

//go:generate go tool mockgen -destination=mock_scheme_test.go -package=sim -write_package_comment=false github.com/vmsim/vmsim/scheme Scheme
