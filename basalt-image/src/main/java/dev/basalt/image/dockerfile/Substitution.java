package dev.basalt.image.dockerfile;

import dev.basalt.api.BasaltException;
import java.util.Map;

/**
 * Docker's variable substitution in instruction arguments: {@code $NAME}, {@code ${NAME}},
 * {@code ${NAME:-default}}, {@code ${NAME:+alternative}}; {@code \$} is a literal dollar. An unset
 * variable is the empty string. (RUN is not substituted here: its shell expands the environment.)
 */
final class Substitution {
    private Substitution() {
    }

    static String expand(String text, Map<String, String> vars, String where) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && (text.charAt(i + 1) == '$' || text.charAt(i + 1) == '\\')) {
                out.append(text.charAt(i + 1));
                i += 2;
            } else if (c == '$' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
                int end = text.indexOf('}', i + 2);
                if (end < 0) {
                    throw new BasaltException.InvalidArgument(where + ": unterminated ${ in '" + text + "'");
                }
                out.append(braced(text.substring(i + 2, end), vars, where));
                i = end + 1;
            } else if (c == '$' && i + 1 < text.length() && isNameStart(text.charAt(i + 1))) {
                int j = i + 1;
                while (j < text.length() && isNamePart(text.charAt(j))) {
                    j++;
                }
                out.append(vars.getOrDefault(text.substring(i + 1, j), ""));
                i = j;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static String braced(String body, Map<String, String> vars, String where) {
        int colon = body.indexOf(':');
        String name = colon < 0 ? body : body.substring(0, colon);
        if (name.isEmpty() || !isNameStart(name.charAt(0)) || !name.chars().allMatch(ch -> isNamePart((char) ch))) {
            throw new BasaltException.InvalidArgument(where + ": invalid variable reference ${" + body + "}");
        }
        String value = vars.get(name);
        if (colon < 0) {
            return value == null ? "" : value;
        }
        String op = body.substring(colon + 1);
        if (op.startsWith("-")) {
            return value == null || value.isEmpty() ? expand(op.substring(1), vars, where) : value;
        }
        if (op.startsWith("+")) {
            return value == null || value.isEmpty() ? "" : expand(op.substring(1), vars, where);
        }
        throw new BasaltException.InvalidArgument(where + ": unsupported modifier in ${" + body + "} (use :- or :+)");
    }

    private static boolean isNameStart(char c) {
        return c == '_' || Character.isLetter(c) && c < 128;
    }

    private static boolean isNamePart(char c) {
        return isNameStart(c) || c >= '0' && c <= '9';
    }
}
