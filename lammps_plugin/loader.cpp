// gauntplugin.so: the file LAMMPS loads (by `plugin load` or from LAMMPS_PLUGIN_PATH).
//
// It registers `pair_style gaunt` without touching Python, so a LAMMPS run that never
// uses the style pays nothing.  The first `pair_style gaunt` makes Python's shared
// library available (unless the process already hosts an interpreter, as when LAMMPS
// runs inside Python) and then opens libgaunt_pair.so, which holds the pair style and
// resolves its Python symbols against that library.  Before that it opens torch's CPU
// library with RTLD_DEEPBIND (see bind_torch_to_its_blas).

#include "plugin_abi.h"

#include "error.h"
#include "lammps.h"

#include <cstdlib>
#include <dlfcn.h>
#include <string>

#ifndef GAUNT_LAMMPS_VERSION
#error "GAUNT_LAMMPS_VERSION must name the LAMMPS version string, e.g. \"22 Jul 2025\""
#endif
#ifndef GAUNT_LIBPYTHON
#define GAUNT_LIBPYTHON ""
#endif
#ifndef GAUNT_TORCH_LIBRARY
#define GAUNT_TORCH_LIBRARY ""
#endif

namespace {

typedef void *(*pair_factory_t)(void *lmp);
pair_factory_t pair_factory = nullptr;

// directory of this shared object, with a trailing slash
std::string own_directory()
{
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&lammpsplugin_init), &info) == 0 || !info.dli_fname) return "";
  std::string path(info.dli_fname);
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string("./") : path.substr(0, slash + 1);
}

// empty on success, else the reason Python's library is not available
std::string make_python_available()
{
  if (dlsym(RTLD_DEFAULT, "Py_IsInitialized")) return "";    // hosted by Python already
  const char *env = std::getenv("GAUNT_MD_LIBPYTHON");
  const std::string lib = (env && *env) ? env : GAUNT_LIBPYTHON;
  if (lib.empty())
    return "no shared Python library is known (this Python was built without --enable-shared); "
           "run LAMMPS from Python (`from lammps import lammps`) or set GAUNT_MD_LIBPYTHON";
  if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
    const char *why = dlerror();
    return "cannot load the Python library " + lib + ": " + (why ? why : "unknown error");
  }
  return "";
}

// torch's libtorch_cpu.so calls its linked-in MKL through exported BLAS/LAPACK names
// (dgemm_, dgetrf_, ...) that the lammps wheel's liblammps.so exports too (a reference
// BLAS).  Inside `lmp`, liblammps is in the global lookup scope before torch is loaded, so
// torch's calls would bind to the slow reference routines (float64 models ~3x slower).
// Opened here first, before Python imports torch, with RTLD_DEEPBIND, libtorch_cpu.so and
// its dependencies look symbols up in themselves before the global scope; torch's own
// import then reuses this copy.  Nothing to do when torch is loaded already (LAMMPS inside
// Python: torch was bound when it was imported).  GAUNT_MD_TORCH_DEEPBIND=0 turns it off.
// Not fatal: when this fails, importing torch reports the real problem (or it runs slower).
void bind_torch_to_its_blas()
{
  const char *off = std::getenv("GAUNT_MD_TORCH_DEEPBIND");
  if (off && std::string(off) == "0") return;
  if (dlopen("libtorch_cpu.so", RTLD_NOW | RTLD_NOLOAD)) return;    // loaded already
  const char *env = std::getenv("GAUNT_MD_TORCH_LIBRARY");
  const std::string lib = (env && *env) ? env : GAUNT_TORCH_LIBRARY;
  if (lib.empty()) return;
  if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)) dlerror();    // clear the error
}

// empty on success, else why the pair style library could not be opened
std::string load_pair_library()
{
  if (pair_factory) return "";
  bind_torch_to_its_blas();
  std::string why = make_python_available();
  if (!why.empty()) return why;
  const std::string path = own_directory() + "libgaunt_pair.so";
  void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *err = dlerror();
    return "cannot load " + path + ": " + (err ? err : "unknown error");
  }
  pair_factory = reinterpret_cast<pair_factory_t>(dlsym(lib, "gaunt_pair_create"));
  if (!pair_factory) return path + " has no symbol gaunt_pair_create (rebuild the plugin)";
  return "";    // never closed: pair objects created from it may live until exit
}

void *create_pair(void *lmp)
{
  const std::string why = load_pair_library();
  if (!why.empty())
    static_cast<LAMMPS_NS::LAMMPS *>(lmp)->error->all(FLERR, "pair_style gaunt: " + why);
  return pair_factory(lmp);
}

}    // namespace

extern "C" void lammpsplugin_init(void *lmp, void *handle, void *regfunc)
{
  lammpsplugin_t plugin;
  plugin.version = GAUNT_LAMMPS_VERSION;
  plugin.style = "pair";
  plugin.name = "gaunt";
  plugin.info = "Gaunt-MACE machine-learned potential (gaunt-md)";
  plugin.author = "gaunt-md developers";
  plugin.creator.v1 = &create_pair;
  plugin.handle = handle;
  reinterpret_cast<gaunt_register_t>(regfunc)(&plugin, lmp);
}
