package cache

//go:generate go tool mockgen -destination=mock_memory_test.go -package=cache -write_package_comment=false github.com/vmsim/vmsim/cache Memory
