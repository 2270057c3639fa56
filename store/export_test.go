package store

// PublishScript is the publication script, for tests that load it alone.
var PublishScript = publishScript
