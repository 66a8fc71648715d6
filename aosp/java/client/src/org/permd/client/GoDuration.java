package org.permd.client;

import java.math.BigDecimal;

/**
 * GoDuration parses durations as Go's time.ParseDuration writes and reads
 * them ("1h30m", "1.5h", "45s", "250ms"): grants carry them in this form.
 */
final class GoDuration {
    private GoDuration() {}

    /** parseNanos returns the duration in nanoseconds, or throws. */
    static long parseNanos(String s) {
        if (s == null || s.isEmpty()) {
            throw new IllegalArgumentException("empty duration");
        }
        int i = 0;
        boolean neg = false;
        if (s.charAt(0) == '-' || s.charAt(0) == '+') {
            neg = s.charAt(0) == '-';
            i++;
        }
        if (s.substring(i).equals("0")) {
            return 0;
        }
        BigDecimal total = BigDecimal.ZERO;
        if (i == s.length()) {
            throw new IllegalArgumentException("invalid duration " + s);
        }
        while (i < s.length()) {
            int j = i;
            while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '.')) {
                j++;
            }
            if (j == i) {
                throw new IllegalArgumentException("invalid duration " + s);
            }
            BigDecimal num = new BigDecimal(s.substring(i, j));
            int k = j;
            while (k < s.length() && !Character.isDigit(s.charAt(k)) && s.charAt(k) != '.') {
                k++;
            }
            String unit = s.substring(j, k);
            long scale;
            switch (unit) {
                case "ns": scale = 1L; break;
                case "us": case "\u00b5s": case "\u03bcs": scale = 1_000L; break;
                case "ms": scale = 1_000_000L; break;
                case "s": scale = 1_000_000_000L; break;
                case "m": scale = 60_000_000_000L; break;
                case "h": scale = 3_600_000_000_000L; break;
                default: throw new IllegalArgumentException("unknown unit \"" + unit + "\" in duration " + s);
            }
            // Go truncates fractional nanoseconds per element.
            total = total.add(new BigDecimal(num.multiply(BigDecimal.valueOf(scale)).toBigInteger()));
            i = k;
        }
        long n = total.longValueExact();
        return neg ? -n : n;
    }
}
