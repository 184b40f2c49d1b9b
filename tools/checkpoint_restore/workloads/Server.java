// SPDX-License-Identifier: GPL-2.0
/*
 * The JVM workload: a server that is ready only once it is warm.
 *
 *	java Server PORT
 *
 * Before it answers, it does what makes a JVM slow to start: it loads
 * every class of a few of the JDK's modules, as a large application loads
 * its own, uses collections, streams, regular expressions, time and text
 * formatting, and runs a loop long enough for the JIT to compile it.  Then
 * it answers every connection to 127.0.0.1:PORT with one line,
 *
 *	ready pid=PID sum=SUM served=N
 *
 * and closes it.  SUM is what the warm-up computed (the same on every
 * start), PID its own, N the connections it has answered before this one:
 * a restored server answers with the PID and SUM it had and goes on
 * counting.
 */

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

public final class Server {
	private static final String[] MODULES = {
		"java.base", "java.xml", "java.logging", "java.sql", "java.net.http",
	};

	/* Loads (and links, without initializing) every class of MODULES. */
	private static long loadClasses() throws IOException {
		long n = 0;
		FileSystem jrt = FileSystems.getFileSystem(URI.create("jrt:/"));
		ClassLoader loader = ClassLoader.getSystemClassLoader();
		for (String mod : MODULES) {
			Path top = jrt.getPath("/modules", mod);
			List<String> names;
			try (Stream<Path> files = Files.walk(top)) {
				names = files.map(p -> top.relativize(p).toString())
					.filter(f -> f.endsWith(".class") && !f.contains("-"))
					.map(f -> f.substring(0, f.length() - 6).replace('/', '.'))
					.collect(Collectors.toList());
			}
			for (String name : names) {
				try {
					Class.forName(name, false, loader);
					n++;
				} catch (ClassNotFoundException | LinkageError e) {
					/* not exported, or needs what is not there */
				}
			}
		}
		return n;
	}

	private static long warmUp() throws IOException {
		long sum = 0;
		Pattern p = Pattern.compile("([a-z]+)-(\\d+)");
		Map<String, Integer> counts = new HashMap<>();
		for (int round = 0; round < 120; round++) {
			List<String> words = IntStream.range(0, 20000)
				.mapToObj(i -> "w" + (char) ('a' + i % 26) + "-" + (i * 7919 % 10007))
				.collect(Collectors.toList());
			for (String w : words) {
				Matcher m = p.matcher(w);
				if (m.find())
					counts.merge(m.group(1), Integer.parseInt(m.group(2)) % 97,
						     Integer::sum);
			}
			TreeMap<String, Integer> sorted = new TreeMap<>(counts);
			for (Map.Entry<String, Integer> e : sorted.entrySet())
				sum = sum * 31 + e.getKey().hashCode() + e.getValue();
			LocalDate d = LocalDate.of(2020, 1, 1).plusDays(round);
			sum += d.getDayOfYear() + Duration.ofMinutes(round).toSeconds();
			sum += String.format("%08x", round).hashCode();
		}
		/* A loop the JIT compiles: warm means compiled. */
		long x = sum;
		for (long i = 0; i < 400_000_000L; i++)
			x = x * 6364136223846793005L + 1442695040888963407L;
		List<Long> keep = new ArrayList<>();
		keep.add(x);
		return sum ^ keep.get(0);
	}

	public static void main(String[] args) throws Exception {
		int port = Integer.parseInt(args[0]);
		long sum = warmUp() ^ loadClasses();
		long pid = ProcessHandle.current().pid();
		long served = 0;
		try (ServerSocket ss = new ServerSocket(port, 50,
							InetAddress.getByName("127.0.0.1"))) {
			while (true) {
				try (Socket s = ss.accept()) {
					String line = "ready pid=" + pid + " sum=" + sum +
						      " served=" + served++ + "\n";
					OutputStream out = s.getOutputStream();
					out.write(line.getBytes(StandardCharsets.US_ASCII));
					out.flush();
				}
			}
		}
	}
}
