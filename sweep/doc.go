// Package sweep runs experiments: many independent simulation runs (points) over traces
// × schemes × parameters, on every core, each with its modeled time and its overhead
// over the baseline scheme none. Results go to CSV and JSON-lines files, one row a point,
// in point order; a point already in an output file is not run again, so an interrupted
// sweep resumes where it stopped.
//
// A sweep decodes each trace once into memory (within a budget) and shares it among all
// the points and baselines that read it, so that its time is the simulations' time.
//
// On a cluster, a sweep runs in shards (Shard: a deterministic share of the points, each
// shard writing its own outputs), Merge joins the shards' outputs into exactly the bytes
// one machine's sweep writes, WriteSlurmScript writes a Slurm array job that does both,
// and a TraceCache keeps each node's copies of the trace files on its local disk.
package sweep
