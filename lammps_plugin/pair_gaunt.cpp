#include "pair_gaunt.h"    // Python.h first

#include "rank_errors.h"

#include "atom.h"
#include "comm.h"
#include "error.h"
#include "force.h"
#include "memory.h"
#include "neigh_list.h"
#include "neighbor.h"
#include "update.h"
#include "utils.h"

#include <cstring>

using namespace LAMMPS_NS;

namespace gaunt {
namespace {

unsigned long long address(const void *p)
{
  return static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(p));
}

// LAMMPS order xx, yy, zz, xy, xz, yz from a row-major 3x3 (symmetrised)
void add_voigt(double *out, const double *m)
{
  out[0] += m[0];
  out[1] += m[4];
  out[2] += m[8];
  out[3] += 0.5 * (m[1] + m[3]);
  out[4] += 0.5 * (m[2] + m[6]);
  out[5] += 0.5 * (m[5] + m[7]);
}

}    // namespace

PairGaunt::PairGaunt(LAMMPS *lmp) : Pair(lmp)
{
  single_enable = 0;
  restartinfo = 0;
  one_coeff = 1;
  manybody_flag = 1;
  ghostneigh = 1;    // edges of ghost atoms feed the later message-passing layers
  centroidstressflag = CENTROID_NOTAVAIL;
}

PairGaunt::~PairGaunt()
{
  if (copymode) return;
  release_model();
  if (allocated) {
    memory->destroy(setflag);
    memory->destroy(cutsq);
    memory->destroy(cutghost);
  }
}

void PairGaunt::release_model()
{
  if (model_ && python_alive()) {
    GilLock gil;
    Py_DECREF(model_);
  }
  model_ = nullptr;
}

void PairGaunt::allocate()
{
  allocated = 1;
  const int n = atom->ntypes + 1;
  memory->create(setflag, n, n, "pair:setflag");
  memory->create(cutsq, n, n, "pair:cutsq");
  memory->create(cutghost, n, n, "pair:cutghost");
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) setflag[i][j] = 0;
}

void PairGaunt::require_metal_units()
{
  if (std::strcmp(update->unit_style, "metal") != 0)
    error->all(FLERR, "pair_style gaunt requires 'units metal' (eV, Angstrom, ps); this input uses 'units {}'",
               update->unit_style);
}

void PairGaunt::settings(int narg, char **arg)
{
  require_metal_units();
  for (int iarg = 0; iarg < narg; iarg += 2) {
    const std::string key = arg[iarg];
    if (key != "device" && key != "dtype")
      error->all(FLERR, "Unknown pair_style gaunt keyword '{}' (known: device, dtype)", key);
    if (iarg + 1 >= narg) error->all(FLERR, "pair_style gaunt keyword '{}' needs a value", key);
    (key == "device" ? device_ : dtype_) = arg[iarg + 1];
  }
}

void PairGaunt::coeff(int narg, char **arg)
{
  if (!allocated) allocate();
  const int ntypes = atom->ntypes;
  if (narg < 3 || std::strcmp(arg[0], "*") != 0 || std::strcmp(arg[1], "*") != 0)
    error->all(FLERR, "pair_style gaunt needs: pair_coeff * * <model.pt> <element of type 1> ... "
                      "<element of type {}>", ntypes);
  if (narg - 3 != ntypes)
    error->all(FLERR, "pair_coeff for pair_style gaunt lists {} element(s) for {} atom type(s): "
                      "give exactly one element per atom type", narg - 3, ntypes);
  require_metal_units();

  std::vector<std::string> elements(arg + 3, arg + narg);
  std::string why = ensure_python();
  if (why.empty()) why = load_model(arg[2], elements);
  stop_if_failed(why);

  for (int i = 1; i <= ntypes; ++i)
    for (int j = i; j <= ntypes; ++j) setflag[i][j] = 1;
}

std::string PairGaunt::load_model(const std::string &path, const std::vector<std::string> &elements)
{
  GilLock gil;
  if (model_) Py_CLEAR(model_);
  PyObject *bridge = PyImport_ImportModule("gaunt_md.lammps.bridge");
  if (!bridge) return "cannot import gaunt_md.lammps.bridge:\n" + take_exception();
  PyObject *names = PyList_New(0);
  for (const auto &element : elements) {
    PyObject *s = PyUnicode_FromString(element.c_str());
    PyList_Append(names, s);
    Py_DECREF(s);
  }
  model_ = PyObject_CallMethod(bridge, "load", "sOssi", path.c_str(), names, device_.c_str(), dtype_.c_str(),
                               comm->nprocs);
  Py_DECREF(names);
  Py_DECREF(bridge);
  if (!model_) return take_exception();

  PyObject *r_max = PyObject_GetAttrString(model_, "r_max");
  PyObject *layers = PyObject_GetAttrString(model_, "num_interactions");
  PyObject *species = PyObject_GetAttrString(model_, "type_species");
  std::string why;
  if (!r_max || !layers || !species) {
    why = take_exception();
  } else {
    r_max_ = PyFloat_AsDouble(r_max);
    layers_ = static_cast<int>(PyLong_AsLong(layers));
    type_species_.assign(1, -1);    // types count from 1
    const Py_ssize_t n = PySequence_Size(species);
    for (Py_ssize_t t = 0; t < n; ++t) {
      PyObject *item = PySequence_GetItem(species, t);
      type_species_.push_back(item ? PyLong_AsLongLong(item) : -1);
      Py_XDECREF(item);
    }
    if (PyErr_Occurred()) why = take_exception();
    else if (static_cast<int>(type_species_.size()) != atom->ntypes + 1 || r_max_ <= 0.0 || layers_ < 1)
      why = "gaunt_md.lammps.bridge returned an inconsistent model description";
  }
  Py_XDECREF(r_max);
  Py_XDECREF(layers);
  Py_XDECREF(species);
  if (!why.empty()) Py_CLEAR(model_);
  return why;
}

void PairGaunt::init_style()
{
  if (force->newton_pair == 0)
    error->all(FLERR, "pair_style gaunt requires newton pair on (forces on ghost atoms are "
                      "communicated back); remove 'newton off' from the input");
  require_metal_units();
  if (!model_) error->all(FLERR, "pair_style gaunt has no model: use pair_coeff * * <model.pt> <elements>");

  neighbor->add_request(this, NeighConst::REQ_FULL | NeighConst::REQ_GHOST);

  // ghost atoms must reach every atom that `layers_` hops of r_max can touch, for as
  // long as the neighbour list lives (atoms move up to skin/2 each)
  const double needed = layers_ * r_max_ + neighbor->skin;
  if (comm->cutghostuser < needed) {
    comm->cutghostuser = needed;
    if (comm->me == 0)
      utils::logmesg(lmp, "pair_style gaunt: communication cutoff {:.6g} = {} layers x r_max {:.6g} + skin {:.6g}\n",
                     needed, layers_, r_max_, neighbor->skin);
  }
}

double PairGaunt::init_one(int i, int j)
{
  cutghost[i][j] = cutghost[j][i] = r_max_;
  return r_max_;
}

void PairGaunt::stop_if_failed(const std::string &local_error)
{
  const std::string message = first_failure(world, !local_error.empty(), local_error);
  if (!message.empty()) error->all(FLERR, "pair_style gaunt: {}", message);
}

std::string PairGaunt::evaluate(bool want_virial, double &energy)
{
  const int n = graph_.num_nodes(), nlocal = atom->nlocal;
  const int *type = atom->type;
  species_.resize(n);
  for (int k = 0; k < n; ++k) species_[k] = type_species_[type[graph_.atoms[k]]];
  forces_.assign(3 * static_cast<std::size_t>(n), 0.0);
  node_energy_.assign(nlocal, 0.0);
  virial_.assign(9, 0.0);
  atom_virial_.assign(want_virial ? 9 * static_cast<std::size_t>(n) : 0, 0.0);

  GilLock gil;
  PyObject *result = PyObject_CallMethod(
      model_, "compute", "nnLKKKKKKKi", static_cast<Py_ssize_t>(n), static_cast<Py_ssize_t>(nlocal),
      static_cast<long long>(graph_.num_edges()), address(graph_.positions.data()), address(species_.data()),
      address(graph_.edges.data()), address(forces_.data()), address(node_energy_.data()),
      address(want_virial ? virial_.data() : nullptr), address(want_virial ? atom_virial_.data() : nullptr),
      want_virial ? 1 : 0);
  if (!result) return take_exception();
  energy = PyFloat_AsDouble(result);
  Py_DECREF(result);
  if (PyErr_Occurred()) return take_exception();
  return "";
}

void PairGaunt::compute(int eflag, int vflag)
{
  ev_init(eflag, vflag);
  const int nlocal = atom->nlocal, nall = nlocal + atom->nghost;
  const bool want_virial = vflag_global || vflag_atom;
  double energy = 0.0;
  std::string why;
  if (nlocal > 0) {
    graph_.build(nlocal, atom->x, list->numneigh, list->firstneigh, nall, layers_, r_max_, NEIGHMASK);
    why = evaluate(want_virial, energy);
  }
  stop_if_failed(why);    // collective: a failure on any rank stops all of them
  if (nlocal == 0) {
    if (vflag_fdotr) virial_fdotr_compute();
    return;
  }

  double **f = atom->f;
  const int n = graph_.num_nodes();
  for (int k = 0; k < n; ++k) {
    double *fi = f[graph_.atoms[k]];
    for (int d = 0; d < 3; ++d) fi[d] += forces_[3 * k + d];
  }
  if (eflag_global) eng_vdwl += energy;
  if (eflag_atom)
    for (int i = 0; i < nlocal; ++i) eatom[i] += node_energy_[i];
  if (vflag_atom)
    for (int k = 0; k < n; ++k) add_voigt(vatom[graph_.atoms[k]], &atom_virial_[9 * k]);
  if (vflag_global) add_voigt(virial, virial_.data());
  if (vflag_fdotr) virial_fdotr_compute();
}

}    // namespace gaunt

extern "C" void *gaunt_pair_create(void *lmp)
{
  return new gaunt::PairGaunt(static_cast<LAMMPS_NS::LAMMPS *>(lmp));
}
