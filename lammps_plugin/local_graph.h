// The graph one MPI rank hands to the model: its owned atoms, the ghost atoms the
// message passing reaches, and the edges (r < r_max) those layers need.
#ifndef GAUNT_LOCAL_GRAPH_H
#define GAUNT_LOCAL_GRAPH_H

#include <cstdint>
#include <vector>

namespace gaunt {

class LocalGraph {
 public:
  // Breadth-first from the owned atoms [0, nlocal): atoms within `layers` hops of
  // them become nodes; atoms within `layers - 1` hops receive their edges.  Owned
  // atom i keeps node index i.  `firstneigh`/`numneigh` is a full neighbour list that
  // also lists neighbours of ghost atoms; entries are masked with `neighmask`.
  void build(int nlocal, double **x, const int *numneigh, int *const *firstneigh, int nall,
             int layers, double r_max, int neighmask);

  std::vector<int> atoms;             // node -> LAMMPS atom index (owned atoms first)
  std::vector<double> positions;      // [nodes, 3]
  std::vector<std::int64_t> edges;    // [2, E]: row 0 receivers, row 1 senders (nodes)

  int num_nodes() const { return static_cast<int>(atoms.size()); }
  std::int64_t num_edges() const { return static_cast<std::int64_t>(edges.size() / 2); }

 private:
  std::vector<int> node_of_;    // atom -> node, -1 when not a node
  std::vector<std::int64_t> receivers_, senders_;
};

}    // namespace gaunt

#endif
