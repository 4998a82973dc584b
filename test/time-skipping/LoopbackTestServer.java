import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.TestServicesStarter;
import java.net.InetSocketAddress;

/**
 * Temporal's Java time-skipping test server, bound to 127.0.0.1 only (its own main binds every
 * interface). Arguments as the SDK passes them to a test server: {@code <port> [--enable-time-skipping]}.
 */
public final class LoopbackTestServer {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    boolean enableTimeSkipping = args.length > 1 && args[1].equalsIgnoreCase("--enable-time-skipping");
    TestServicesStarter services = new TestServicesStarter(!enableTimeSkipping, 0);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
    for (BindableService service : services.getServices()) builder.addService(service);
    Server server = builder.build().start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      services.close();
    }));
    server.awaitTermination();
  }
}
