package incremental

//go:generate go tool mockgen -destination=mock_storage_test.go -package=incremental_test -write_package_comment=false github.com/vmsim/vmsim/incremental Storage
