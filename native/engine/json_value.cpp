#include "json_value.h"

#include "engine_error.h"

#include <cmath>
#include <cstdlib>

namespace tweetsmith {
namespace {

class Parser {
public:
    Parser(const std::string & text, const std::string & what) : s_(text), what_(what) {}

    JsonValue parse_document() {
        JsonValue v = parse_value(0);
        skip_space();
        if (i_ != s_.size()) fail("unexpected text after the value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string & why) const {
        throw EngineError(what_ + ": invalid JSON at byte " + std::to_string(i_) + ": " + why);
    }
    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) i_++;
    }
    bool consume(const char * word) {
        size_t n = std::char_traits<char>::length(word);
        if (s_.compare(i_, n, word) == 0) {
            i_ += n;
            return true;
        }
        return false;
    }

    JsonValue parse_value(int depth) {
        if (depth > 64) fail("nested too deeply");
        skip_space();
        if (i_ >= s_.size()) fail("unexpected end");
        JsonValue v;
        const char c = s_[i_];
        if (c == '{') {
            v.kind = JsonValue::Kind::Object;
            i_++;
            skip_space();
            if (i_ < s_.size() && s_[i_] == '}') { i_++; return v; }
            for (;;) {
                skip_space();
                if (i_ >= s_.size() || s_[i_] != '"') fail("expected a key");
                std::string key = parse_string();
                skip_space();
                if (i_ >= s_.size() || s_[i_] != ':') fail("expected ':'");
                i_++;
                // a repeated key would make the header mean two things; the format's own parser refuses it too
                if (v.object.count(key)) fail("the key \"" + key + "\" appears twice");
                v.object[key] = parse_value(depth + 1);
                skip_space();
                if (i_ < s_.size() && s_[i_] == ',') { i_++; continue; }
                if (i_ < s_.size() && s_[i_] == '}') { i_++; return v; }
                fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.kind = JsonValue::Kind::Array;
            i_++;
            skip_space();
            if (i_ < s_.size() && s_[i_] == ']') { i_++; return v; }
            for (;;) {
                v.array.push_back(parse_value(depth + 1));
                skip_space();
                if (i_ < s_.size() && s_[i_] == ',') { i_++; continue; }
                if (i_ < s_.size() && s_[i_] == ']') { i_++; return v; }
                fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            v.kind = JsonValue::Kind::String;
            v.string = parse_string();
            return v;
        }
        if (consume("true")) { v.kind = JsonValue::Kind::Bool; v.boolean = true; return v; }
        if (consume("false")) { v.kind = JsonValue::Kind::Bool; return v; }
        if (consume("null")) return v;
        if (c == '-' || (c >= '0' && c <= '9')) {
            // JSON's grammar, checked here: strtod alone would also take "-inf", "0x1p3" or "-nan"
            const size_t start = i_;
            auto digits = [&] {
                const size_t from = i_;
                while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') i_++;
                return i_ > from;
            };
            if (s_[i_] == '-') i_++;
            if (i_ < s_.size() && s_[i_] == '0') i_++;
            else if (!digits()) fail("bad number");
            if (i_ < s_.size() && s_[i_] == '.') {
                i_++;
                if (!digits()) fail("bad number");
            }
            if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
                i_++;
                if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) i_++;
                if (!digits()) fail("bad number");
            }
            v.kind = JsonValue::Kind::Number;
            v.number = std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
            if (!std::isfinite(v.number)) fail("number out of range");
            return v;
        }
        fail(std::string("unexpected character '") + c + "'");
    }

    static void append_utf8(std::string & out, uint32_t cp) {
        if (cp < 0x80) out += char(cp);
        else if (cp < 0x800) { out += char(0xC0 | (cp >> 6)); out += char(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) { out += char(0xE0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
        else { out += char(0xF0 | (cp >> 18)); out += char(0x80 | ((cp >> 12) & 0x3F)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
    }

    uint32_t parse_hex4() {
        if (i_ + 4 > s_.size()) fail("short \\u escape");
        uint32_t cp = 0;
        for (int k = 0; k < 4; k++) {
            const char h = s_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= uint32_t(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= uint32_t(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= uint32_t(h - 'A' + 10);
            else fail("bad \\u escape");
        }
        return cp;
    }

    std::string parse_string() {
        i_++;  // the opening quote
        std::string out;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') return out;
            if ((unsigned char)c < 0x20) fail("control character in a string");
            if (c != '\\') { out += c; continue; }
            if (i_ >= s_.size()) break;
            const char e = s_[i_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = parse_hex4();
                    if (cp >= 0xDC00 && cp < 0xE000) fail("lone low surrogate");
                    if (cp >= 0xD800 && cp < 0xDC00) {
                        if (!(i_ + 6 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u')) fail("lone high surrogate");
                        i_ += 2;
                        const uint32_t low = parse_hex4();
                        if (low < 0xDC00 || low >= 0xE000) fail("bad surrogate pair");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    append_utf8(out, cp);
                    break;
                }
                default: fail("bad escape");
            }
        }
        fail("unterminated string");
    }

    const std::string & s_;
    const std::string & what_;
    size_t i_ = 0;
};

}  // namespace

JsonValue parse_json(const std::string & text, const std::string & what) { return Parser(text, what).parse_document(); }

}  // namespace tweetsmith
