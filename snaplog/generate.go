package snaplog

//go:generate go tool mockgen -destination=mock_link_test.go -package=snaplog_test -write_package_comment=false github.com/vmsim/vmsim/snaplog Link
