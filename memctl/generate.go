package memctl

//go:generate go tool mockgen -source=link.go -destination=mock_link_test.go -package=memctl_test -write_package_comment=false
