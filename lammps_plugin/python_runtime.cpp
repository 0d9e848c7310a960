#include "python_runtime.h"

#include <cstdlib>
#include <cstring>

#ifndef GAUNT_PYTHON_EXECUTABLE
#define GAUNT_PYTHON_EXECUTABLE ""
#endif

namespace gaunt {
namespace {

std::string status_text(const PyStatus &status)
{
  std::string text = status.err_msg ? status.err_msg : "unknown error";
  if (status.func) text = std::string(status.func) + ": " + text;
  return text;
}

// the running library must be the Python these sources were compiled against
std::string check_version()
{
  const char *running = Py_GetVersion();
  const std::string built = std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION) + ".";
  if (std::strncmp(running, built.c_str(), built.size()) != 0)
    return "the plugin was built for Python " + built.substr(0, built.size() - 1) +
        " but this process runs Python " + std::string(running).substr(0, std::strcspn(running, " ")) +
        "; rebuild it (pip install -e . or python lammps_plugin/build.py) with this Python";
  return "";
}

// str(obj), or a placeholder when that fails (GIL held)
std::string as_text(PyObject *obj)
{
  if (!obj) return "";
  PyObject *s = PyObject_Str(obj);
  if (!s) {
    PyErr_Clear();
    return "<unprintable Python object>";
  }
  const char *utf8 = PyUnicode_AsUTF8(s);
  std::string text = utf8 ? utf8 : "<unprintable Python object>";
  if (!utf8) PyErr_Clear();
  Py_DECREF(s);
  return text;
}

// call module.function(value) and return str(result); empty if anything fails
std::string call_formatter(const char *module, const char *function, PyObject *value)
{
  PyObject *mod = PyImport_ImportModule(module);
  if (!mod) {
    PyErr_Clear();
    return "";
  }
  PyObject *result = PyObject_CallMethod(mod, function, "O", value);
  Py_DECREF(mod);
  if (!result) {
    PyErr_Clear();
    return "";
  }
  std::string text = as_text(result);
  Py_DECREF(result);
  return text;
}

}    // namespace

bool python_alive()
{
  if (!Py_IsInitialized()) return false;
#if PY_VERSION_HEX >= 0x030D0000
  return !Py_IsFinalizing();
#else
  return !_Py_IsFinalizing();
#endif
}

std::string ensure_python()
{
  std::string why = check_version();
  if (!why.empty() || Py_IsInitialized()) return why;

  const char *env = std::getenv("GAUNT_MD_PYTHON");
  const std::string exe = (env && *env) ? env : GAUNT_PYTHON_EXECUTABLE;
  if (exe.empty()) return "no Python executable known: set GAUNT_MD_PYTHON to the python of your environment";

  // the executable decides sys.prefix (a virtual environment's pyvenv.cfg is found
  // next to it) and so which site-packages, with gaunt_md and torch, are visible
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;    // leave Ctrl-C and friends to LAMMPS / MPI
  config.parse_argv = 0;
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, exe.c_str());
  if (!PyStatus_Exception(status))
    status = PyConfig_SetBytesString(&config, &config.executable, exe.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) return "cannot start Python " + exe + ": " + status_text(status);
  PyEval_SaveThread();    // release the GIL: every later call takes it with GilLock
  return "";
}

std::string take_exception()
{
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
  if (!type) return "unknown Python error";
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb && value) PyException_SetTraceback(value, tb);
  std::string text = value ? call_formatter("gaunt_md.lammps.bridge", "describe_exception", value) : "";
  if (text.empty()) text = as_text(type) + ": " + as_text(value);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}    // namespace gaunt
