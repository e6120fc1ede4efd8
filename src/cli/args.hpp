#pragma once
// Command-line parsing shared by every `quicksr` command: each command declares its options once,
// and gets parsing, validation and --help text from that declaration.
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace quicksr::cli {

struct OptionSpec {
  std::string name;        // "--model"
  std::string value_name;  // "FILE"; empty for a flag
  std::string help;
  std::string short_name = {};  // "-o": an alias of `name`; empty for none
};

struct CommandSpec {
  std::string name;   // "upscale"
  std::string usage;  // "IN OUT [options]"
  std::string summary;
  std::vector<OptionSpec> options;
  int min_positional = 0;
  int max_positional = 0;
};

class ParsedArgs {
 public:
  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& name) const;
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  // Every value of a repeatable option, in command-line order.
  std::vector<std::string> get_all(const std::string& name) const;
  // Numeric values; throw quicksr::Error naming the option when malformed or outside [lo, hi].
  int get_int(const std::string& name, int fallback, int lo, int hi) const;
  double get_double(const std::string& name, double fallback, double lo, double hi) const;
  bool help = false;

 private:
  friend ParsedArgs parse_args(const CommandSpec& spec, std::span<char* const> args);
  std::vector<std::string> positional_;
  std::vector<std::pair<std::string, std::string>> values_;
};

// Throws quicksr::Error for unknown options, missing values or a wrong number of positionals.
ParsedArgs parse_args(const CommandSpec& spec, std::span<char* const> args);
std::string help_text(const CommandSpec& spec);

// How every command starts: parse_args, and for --help print help_text and return nullopt (the
// command then exits with 0).
std::optional<ParsedArgs> parse_command(const CommandSpec& spec, std::span<char* const> args);

}  // namespace quicksr::cli
