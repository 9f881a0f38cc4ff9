package memctl

//go:generate go tool mockgen -destination=mock_link_test.go -package=memctl_test -mock_names=Backup=MockLink -write_package_comment=false github.com/vmsim/vmsim/scheme Backup
