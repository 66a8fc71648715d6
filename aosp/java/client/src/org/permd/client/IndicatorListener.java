package org.permd.client;

/**
 * IndicatorListener receives indicator snapshots on the executor given to
 * the client, one at a time, latest wins: a slow listener skips
 * intermediate snapshots and never holds up calls or other listeners.
 */
public interface IndicatorListener {
    /** onIndicator is called with each newer snapshot. */
    void onIndicator(IndicatorSnapshot snapshot);
}
