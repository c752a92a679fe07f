package dev.basalt.api;

/** Syntax of host names (RFC 1123 labels, ASCII only), shared by policy rules and the proxy. */
public final class DomainNames {
    public static final int MAX_LENGTH = 253;

    private DomainNames() {}

    /**
     * What is wrong with a lowercase host name without a trailing dot, or null if it is valid:
     * 1..253 characters, at least two labels of 1..63 letters, digits and inner hyphens, the last
     * label not all digits (that would be an address).
     */
    public static String problem(String name) {
        if (name.isEmpty()) {
            return "it is empty";
        }
        if (name.length() > MAX_LENGTH) {
            return "it is longer than " + MAX_LENGTH + " characters";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > 127) {
                return "it contains non-ASCII characters: use its punycode (xn--) form";
            }
        }
        String[] labels = name.split("\\.", -1);
        if (labels.length < 2) {
            return "it needs at least two labels (example.com)";
        }
        for (String label : labels) {
            if (label.isEmpty()) {
                return "it has an empty label (two dots in a row, or a leading dot)";
            }
            if (label.length() > 63) {
                return "the label '" + label + "' is longer than 63 characters";
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                if (!ok) {
                    return "the label '" + label + "' contains '" + c + "': only letters, digits and '-' are allowed";
                }
            }
            if (label.startsWith("-") || label.endsWith("-")) {
                return "the label '" + label + "' starts or ends with '-'";
            }
        }
        if (labels[labels.length - 1].chars().allMatch(c -> c >= '0' && c <= '9')) {
            return "its last label is a number: write an address range instead (203.0.113.7/32)";
        }
        return null;
    }
}
