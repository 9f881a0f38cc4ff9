// Package interval computes optimum checkpoint intervals: how much work to do between
// two checkpoints when a checkpoint costs delta seconds and failures arrive as a Poisson
// process with mean time between failures M.
//
//   - [Young] is J. W. Young's first-order estimate, sqrt(2·delta·M), from "A first order
//     approximation to the optimum checkpoint interval", Communications of the ACM 17(9),
//     530–531, 1974.
//   - [Daly] is J. T. Daly's higher-order estimate, eq. (37) of "A higher order estimate
//     of the optimum checkpoint interval for restart dumps", Future Generation Computer
//     Systems 22(3), 303–312, 2006: for delta < 2M,
//     sqrt(2·delta·M)·[1 + (1/3)·sqrt(delta/(2M)) + (1/9)·(delta/(2M))] − delta, else M.
//   - [Model] is Daly's complete cost function for exponential failures, the expected
//     wall-clock time T_w(tau) = M·e^(R/M)·(e^((tau+delta)/M) − 1)·Ts/tau of a job that
//     needs Ts seconds of work, checkpoints every tau seconds of work and takes R seconds
//     to restart after a failure. [Model.Optimum] minimises it numerically, so that a caller can
//     evaluate any interval, and check the closed forms, against the model itself.
//
// Every quantity is a [Seconds] value; every function validates its inputs and returns
// an error wrapping [ErrInvalid] for a bad one, never a silently wrong number.
package interval
