#include "cli/args.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>
#include <sstream>
#include <type_traits>

#include "quicksr/error.hpp"

namespace quicksr::cli {
namespace {

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  auto it = std::find_if(spec.options.begin(), spec.options.end(),
                         [&](const OptionSpec& o) { return o.name == name; });
  return it == spec.options.end() ? nullptr : &*it;
}

const OptionSpec* find_short_option(const CommandSpec& spec, const std::string& name) {
  auto it = std::find_if(spec.options.begin(), spec.options.end(), [&](const OptionSpec& o) {
    return !o.short_name.empty() && o.short_name == name;
  });
  return it == spec.options.end() ? nullptr : &*it;
}

// True for an option `spec` knows, long or short, with or without "=VALUE".
bool is_option_of(const CommandSpec& spec, const std::string& arg) {
  return find_short_option(spec, arg) || find_option(spec, arg.substr(0, arg.find('='))) ||
         arg == "--help" || arg == "-h";
}

template <typename T>
T parse_number(const std::string& option, const std::string& text, T lo, T hi) {
  T value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) {
    throw Error("option " + option + ": '" + text + "' is not " +
                (std::is_integral_v<T> ? "a whole number" : "a number"));
  }
  if (!(value >= lo && value <= hi)) {  // also rejects NaN
    std::ostringstream range;
    range << "option " << option << ": " << text << " is outside [" << lo << ", " << hi << "]";
    throw Error(range.str());
  }
  return value;
}

}  // namespace

bool ParsedArgs::has(const std::string& name) const { return get(name).has_value(); }

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
  for (auto it = values_.rbegin(); it != values_.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

std::string ParsedArgs::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

std::vector<std::string> ParsedArgs::get_all(const std::string& name) const {
  std::vector<std::string> all;
  for (const auto& [key, value] : values_) {
    if (key == name) all.push_back(value);
  }
  return all;
}

int ParsedArgs::get_int(const std::string& name, int fallback, int lo, int hi) const {
  auto text = get(name);
  return text ? parse_number<int>(name, *text, lo, hi) : fallback;
}

double ParsedArgs::get_double(const std::string& name, double fallback, double lo,
                              double hi) const {
  auto text = get(name);
  return text ? parse_number<double>(name, *text, lo, hi) : fallback;
}

ParsedArgs parse_args(const CommandSpec& spec, std::span<char* const> args) {
  ParsedArgs parsed;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      return parsed;
    }
    if (const OptionSpec* option = find_short_option(spec, arg)) arg = option->name;
    if (arg.size() > 2 && arg.starts_with("--")) {
      std::string value;
      bool inline_value = false;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        inline_value = true;
      }
      const OptionSpec* option = find_option(spec, arg);
      if (!option) throw Error("unknown option " + arg + " (see quicksr " + spec.name + " --help)");
      if (option->value_name.empty()) {
        if (inline_value) throw Error("option " + arg + " takes no value");
      } else if (!inline_value) {
        if (i + 1 >= args.size()) throw Error("option " + arg + " needs a value");
        value = args[++i];
        // "--json --overwrite" forgot the file name; a value that is an option is a mistake
        // (--json=--overwrite names such a file on purpose).
        if (is_option_of(spec, value)) {
          throw Error("option " + arg + " needs a value, not the option " + value);
        }
      }
      parsed.values_.emplace_back(arg, value);
    } else if (arg.size() > 1 && arg.starts_with("-")) {  // "-" alone is standard input or output
      throw Error("unknown option " + arg + " (see quicksr " + spec.name + " --help)");
    } else {
      parsed.positional_.push_back(arg);
    }
  }
  const int count = static_cast<int>(parsed.positional_.size());
  if (count < spec.min_positional || count > spec.max_positional) {
    throw Error("usage: quicksr " + spec.name + " " + spec.usage + " (see --help)");
  }
  return parsed;
}

std::string help_text(const CommandSpec& spec) {
  std::ostringstream out;
  out << "usage: quicksr " << spec.name << " " << spec.usage << "\n\n" << spec.summary << "\n";
  if (!spec.options.empty()) out << "\noptions:\n";
  for (const OptionSpec& option : spec.options) {
    std::string left = (option.short_name.empty() ? "" : option.short_name + ", ") + option.name +
                       (option.value_name.empty() ? "" : " " + option.value_name);
    out << "  " << left << std::string(left.size() < 22 ? 22 - left.size() : 1, ' ') << option.help
        << "\n";
  }
  out << "  --help                show this help\n";
  return out.str();
}

std::optional<ParsedArgs> parse_command(const CommandSpec& spec, std::span<char* const> args) {
  ParsedArgs parsed = parse_args(spec, args);
  if (parsed.help) {
    std::cout << help_text(spec);
    return std::nullopt;
  }
  return parsed;
}

}  // namespace quicksr::cli
