// pair_style gaunt: a Gaunt-MACE model exported by gaunt-md, evaluated through Python.
//
//   pair_style gaunt [device cpu|cuda|auto] [dtype float32|float64]
//   pair_coeff * * model.pt C H N O        (one element per atom type)
//
// Each step the rank's owned atoms plus the ghost atoms the message passing reaches
// are sent to gaunt_md.lammps.bridge; forces come back for ghosts too and are
// reverse-communicated by LAMMPS (newton pair on).
#ifndef GAUNT_PAIR_GAUNT_H
#define GAUNT_PAIR_GAUNT_H

#include "python_runtime.h"    // Python.h first

#include "local_graph.h"

#include "pair.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gaunt {

class PairGaunt : public LAMMPS_NS::Pair {
 public:
  explicit PairGaunt(LAMMPS_NS::LAMMPS *lmp);
  ~PairGaunt() override;

  void compute(int eflag, int vflag) override;
  void settings(int narg, char **arg) override;
  void coeff(int narg, char **arg) override;
  void init_style() override;
  double init_one(int i, int j) override;

 private:
  void allocate();
  void require_metal_units();
  void release_model();
  // Python work of coeff() / compute(); empty on success, else the error text
  std::string load_model(const std::string &path, const std::vector<std::string> &elements);
  std::string evaluate(bool want_virial, double &energy);
  // every rank stops with the first rank's message if any rank failed
  void stop_if_failed(const std::string &local_error);

  PyObject *model_ = nullptr;    // gaunt_md.lammps.bridge.LammpsModel
  std::string device_ = "cpu";
  std::string dtype_;            // empty: the model's own
  double r_max_ = 0.0;
  int layers_ = 0;               // message-passing layers of the model
  std::vector<std::int64_t> type_species_;    // LAMMPS type -> model species index

  LocalGraph graph_;
  std::vector<std::int64_t> species_;
  std::vector<double> forces_, node_energy_, virial_, atom_virial_;
};

}    // namespace gaunt

#endif
