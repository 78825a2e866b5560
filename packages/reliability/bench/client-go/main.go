// The anchor of the watch benchmark: client-go's dynamic shared informer (client-go 1.20, from
// Debian's kubernetes source, the tree @vmcp/envtest builds kube-apiserver from), on the same API
// server and the same objects as the Node contenders. Built by build.sh; see ../client-go.ts.
//
// Prints READY on stderr once its cache has synced. Then, on a line "report" on stdin (or after
// --expect-updates update events carrying a bench/ts annotation, or the timeout), one JSON line
// on stdout: {"impl":"client-go","objects":N,"syncMs":...,"rssMB":<peak RSS>,"updates":N,
// "latP50Ms":...,"latP99Ms":...,"cpuUsPerEvent":<CPU time since READY per update>}.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// rssMB is the peak resident set (VmHWM), as the Node contenders report it.
func rssMB() float64 {
	b, _ := ioutil.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(l)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuUs is the process's CPU time (user and system, all threads) in microseconds.
func cpuUs() int64 {
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return usage.Utime.Nano()/1000 + usage.Stime.Nano()/1000
}

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "")
	ns := flag.String("namespace", "default", "")
	group := flag.String("group", "toolhive.stacklok.dev", "")
	version := flag.String("version", "v1beta1", "")
	resource := flag.String("resource", "mcpservers", "")
	expect := flag.Int("expect-updates", 0, "report after this many update events carrying a bench/ts annotation")
	timeout := flag.Duration("timeout", 0, "report after this long (0: wait for stdin)")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		panic(err)
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	dc := dynamic.NewForConfigOrDie(cfg)
	gvr := schema.GroupVersionResource{Group: *group, Version: *version, Resource: *resource}
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, *ns, nil)
	inf := f.ForResource(gvr).Informer()
	var mu sync.Mutex
	var lats []float64
	done := make(chan struct{})
	var doneOnce sync.Once
	finish := func() { doneOnce.Do(func() { close(done) }) }
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(o, n interface{}) {
		u := n.(*unstructured.Unstructured)
		// A relist re-delivers every object as an update, changed or not: only changes count (the
		// Node contenders are told of changed objects only).
		if o.(*unstructured.Unstructured).GetResourceVersion() == u.GetResourceVersion() {
			return
		}
		ts, ok := u.GetAnnotations()["bench/ts"]
		if !ok {
			return
		}
		ms, _ := strconv.ParseFloat(ts, 64)
		mu.Lock()
		lats = append(lats, float64(time.Now().UnixNano())/1e6-ms)
		if *expect > 0 && len(lats) == *expect {
			finish()
		}
		mu.Unlock()
	}})
	stop := make(chan struct{})
	start := time.Now()
	go inf.Run(stop)
	cache.WaitForCacheSync(stop, inf.HasSynced)
	synced := time.Since(start)
	n := len(inf.GetStore().List())
	cpuAtSync := cpuUs()
	fmt.Fprintln(os.Stderr, "READY")
	go func() {
		lines := bufio.NewScanner(os.Stdin)
		for lines.Scan() {
			if lines.Text() == "report" {
				finish()
			}
		}
	}()
	if *timeout > 0 {
		go func() { time.Sleep(*timeout); finish() }()
	}
	<-done
	mu.Lock()
	sort.Float64s(lats)
	p := func(q float64) float64 {
		if len(lats) == 0 {
			return -1
		}
		return lats[int(q*float64(len(lats)-1))]
	}
	perEvent := float64(cpuUs()-cpuAtSync) / float64(len(lats))
	if len(lats) == 0 {
		perEvent = -1
	}
	out, _ := json.Marshal(map[string]interface{}{"impl": "client-go", "objects": n, "syncMs": float64(synced.Microseconds()) / 1000, "rssMB": rssMB(), "updates": len(lats), "latP50Ms": p(0.5), "latP99Ms": p(0.99), "cpuUsPerEvent": perEvent})
	mu.Unlock()
	fmt.Println(string(out))
	close(stop)
}
