package repl

//go:generate go tool mockgen -destination=mock_backup_test.go -package=repl_test -write_package_comment=false github.com/vmsim/vmsim/scheme Backup
