package mmu

// The adapters' access loops (access_gen.go), from one template (access.go.tmpl).
//go:generate go run ./internal/genaccess .
