// Package ext holds the empty extension points Traefik's dynamic configuration embeds
// (dynamic.HTTP and dynamic.Router); the open-source build adds no fields to them.
package ext

// HTTP is embedded in Traefik's dynamic HTTP configuration.
type HTTP struct{}

// Router is embedded in Traefik's dynamic router configuration.
type Router struct{}
