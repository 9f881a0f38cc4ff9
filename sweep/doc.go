// Package sweep runs experiments: many independent simulation runs (points) over traces
// × schemes × parameters, on every core, each with its modeled time and its overhead
// over the baseline scheme none. Results go to CSV and JSON-lines files, one row a point,
// in point order; a point already in an output file is not run again, so an interrupted
// sweep resumes where it stopped.
package sweep
