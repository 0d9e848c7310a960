// Agreeing across MPI ranks that something failed, so that every rank can stop
// together through error->all() (clean exit) instead of one rank aborting.
#ifndef GAUNT_RANK_ERRORS_H
#define GAUNT_RANK_ERRORS_H

#include <mpi.h>

#include <string>

namespace gaunt {

// Collective.  Empty when no rank failed; otherwise, on every rank, the message of the
// lowest-numbered failing rank, prefixed with that rank when running in parallel.
std::string first_failure(MPI_Comm comm, bool failed, const std::string &message);

}    // namespace gaunt

#endif
