#include "rank_errors.h"

#include <vector>

namespace gaunt {

std::string first_failure(MPI_Comm comm, bool failed, const std::string &message)
{
  int me = 0, nprocs = 1;
  MPI_Comm_rank(comm, &me);
  MPI_Comm_size(comm, &nprocs);
  int mine = failed ? me : nprocs, first = nprocs;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == nprocs) return "";

  int length = (me == first) ? static_cast<int>(message.size()) : 0;
  MPI_Bcast(&length, 1, MPI_INT, first, comm);
  std::vector<char> text(message.begin(), message.end());
  text.resize(length);
  if (length > 0) MPI_Bcast(text.data(), length, MPI_CHAR, first, comm);
  std::string result(text.begin(), text.end());
  if (result.empty()) result = "unknown failure";
  if (nprocs > 1) result = "(MPI rank " + std::to_string(first) + ") " + result;
  return result;
}

}    // namespace gaunt
