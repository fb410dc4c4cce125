# bench/plot.gp - the plots of one bench/run, nginx and pixeld side by side on
# the same scales: 2xx answers per second over each closed-loop run, and the
# latency percentiles of the open-loop runs at 50% and 90% of each server's
# own peak. bench/run writes the data files and calls:
#   gnuplot -e "dir='DATA'; out='PREFIX'; workloads='w1 w2 w3'" bench/plot.gp
# and gets PREFIX-throughput.png and PREFIX-latency.png.

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
	set terminal pngcairo size 1400,560 font "sans,10" noenhanced
} else {
	set terminal png size 1400,560 noenhanced
}
servers = "nginx pixeld"
set grid
set key bottom right

# ---- throughput over time ----
ymax = 1
do for [s in servers] {
	do for [w in workloads] {
		stats sprintf("%s/tput-%s-%s.dat", dir, s, w) using 2 nooutput
		if (STATS_max > ymax) { ymax = STATS_max }
	}
}
set output out."-throughput.png"
set multiplot layout 1,2 title "2xx answers per second, closed loop (pixelload on its own CPU)"
set xlabel "seconds into the run"
set ylabel "2xx / s"
set yrange [0:ymax * 1.1]
do for [s in servers] {
	set title s
	plot for [w in workloads] sprintf("%s/tput-%s-%s.dat", dir, s, w) using 1:2 \
		with linespoints pointtype 7 pointsize 0.5 title w
}
unset multiplot

# ---- latency percentiles ----
set autoscale
lmin = 1e12
lmax = 1
do for [s in servers] {
	do for [i = 2:7] {
		stats sprintf("%s/lat-%s.dat", dir, s) every ::1 using i nooutput
		if (STATS_min < lmin) { lmin = STATS_min }
		if (STATS_max > lmax) { lmax = STATS_max }
	}
}
set output out."-latency.png"
set multiplot layout 1,2 title "latency from the intended send time, open loop at 50% and 90% of each server's own peak"
set xlabel "percentile"
set ylabel "microseconds (log scale)"
set logscale y
set yrange [lmin / 1.5:lmax * 1.5]
set key top left
do for [s in servers] {
	set title s
	plot for [i = 2:7] sprintf("%s/lat-%s.dat", dir, s) using i:xtic(1) \
		with linespoints pointtype 7 pointsize 0.6 title columnheader(i)
}
unset multiplot
