// Traefik's go.mod replaces this module with a directory of its own repository, which the
// published module zip does not contain. Traefik uses it only as two empty extension structs
// embedded in its dynamic configuration (a hook for other builds); this stands in for it.
module github.com/traefik/traefik/dynamic/ext

go 1.24.0
