// Package textpos names a byte offset of a file's text as name:line:column, for errors
// about JSON and other text inputs.
package textpos
