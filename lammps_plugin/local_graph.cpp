#include "local_graph.h"

namespace gaunt {

void LocalGraph::build(int nlocal, double **x, const int *numneigh, int *const *firstneigh, int nall,
                       int layers, double r_max, int neighmask)
{
  const double cutsq = r_max * r_max;
  node_of_.assign(nall, -1);
  atoms.clear();
  receivers_.clear();
  senders_.clear();
  for (int i = 0; i < nlocal; ++i) {
    node_of_[i] = i;
    atoms.push_back(i);
  }

  // atoms [begin, end) are exactly `hop` hops from the owned ones
  std::size_t begin = 0;
  for (int hop = 0; hop < layers; ++hop) {
    const std::size_t end = atoms.size();
    for (std::size_t node = begin; node < end; ++node) {
      const int i = atoms[node];
      const double *xi = x[i];
      const int *neighbours = firstneigh[i];
      for (int jj = 0; jj < numneigh[i]; ++jj) {
        const int j = neighbours[jj] & neighmask;
        const double dx = x[j][0] - xi[0], dy = x[j][1] - xi[1], dz = x[j][2] - xi[2];
        if (dx * dx + dy * dy + dz * dz >= cutsq) continue;
        if (node_of_[j] < 0) {
          node_of_[j] = static_cast<int>(atoms.size());
          atoms.push_back(j);
        }
        receivers_.push_back(static_cast<std::int64_t>(node));
        senders_.push_back(node_of_[j]);
      }
    }
    begin = end;
  }

  positions.resize(3 * atoms.size());
  for (std::size_t node = 0; node < atoms.size(); ++node)
    for (int d = 0; d < 3; ++d) positions[3 * node + d] = x[atoms[node]][d];
  edges.assign(receivers_.begin(), receivers_.end());
  edges.insert(edges.end(), senders_.begin(), senders_.end());
}

}    // namespace gaunt
